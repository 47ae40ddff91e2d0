"""The one scoping mechanism: a division-code prefix, narrowed to assigned households for helpers.

Every row that belongs to a place carries (or reaches through a foreign key) the 12-digit code of
its village; a user's scope is a prefix of it. Models declare where that code is (`SCOPE_FIELD`) and,
for the helper role, the path from the row to the helper's user (`HELPER_PATH`).
"""

from __future__ import annotations

from typing import Any

from django.db import models


class ScopedQuerySet(models.QuerySet):
    def in_scope(self, user: Any) -> ScopedQuerySet:
        """Rows the user may see; none for anonymous or scope-less users."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        prefix = getattr(user, "scope_prefix", None)
        if prefix is None:
            return self.none()
        qs = self
        if prefix:
            qs = qs.filter(**{f"{self.model.SCOPE_FIELD}__startswith": prefix})
        if getattr(user, "is_helper", False):
            helper_path = getattr(self.model, "HELPER_PATH", None)
            if helper_path is None:
                return self.none()
            # distinct: a household can be reached through several assignments of one helper.
            qs = qs.filter(**{helper_path: user}).distinct()
        return qs


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass
