"""Form pieces shared by every page that picks a place through the 县 → 乡镇 → 村 cascade."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lookback.divisions.selectors import divisions_for_user


class CascadeCleaningMixin:
    """Cleans the `county`, `township` and `village` fields of a form to division codes inside the user's
    scope; a code outside it (typed into the URL, say) is a field error, never a wider list."""

    user: Any
    cleaned_data: dict[str, Any]

    def _division_code(self, name: str, level: str) -> str:
        code = (self.cleaned_data.get(name) or "").strip()
        if not code:
            return ""
        division = divisions_for_user(self.user).filter(code=code, level=level).first()
        if division is None:
            raise forms.ValidationError(_("所选地区不存在或不在您的管辖范围内。"), code="division")
        return division.code

    def clean_county(self) -> str:
        return self._division_code("county", "county")

    def clean_township(self) -> str:
        return self._division_code("township", "township")

    def clean_village(self) -> str:
        return self._division_code("village", "village")
