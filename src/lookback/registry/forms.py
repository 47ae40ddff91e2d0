from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lookback.core import codes
from lookback.divisions.forms import CascadeCleaningMixin
from lookback.divisions.selectors import children_in_scope
from lookback.registry.importers.readers import SUFFIXES
from lookback.registry.selectors import HouseholdFilters


class HouseholdFilterForm(CascadeCleaningMixin, forms.Form):
    """The household list's filters. Invalid values give a message, never a 500."""

    county = forms.CharField(label=_("县"), required=False)
    township = forms.CharField(label=_("乡镇"), required=False)
    village = forms.CharField(label=_("村"), required=False)
    attribute = forms.ChoiceField(label=_("贫困户属性"), required=False)
    exit_year = forms.TypedChoiceField(label=_("脱贫年度"), required=False, coerce=int, empty_value=None)
    cause = forms.ChoiceField(label=_("主要致贫原因"), required=False)
    q = forms.CharField(
        label=_("查找"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _("姓名、拼音首字母、户编号或证件号码")}),
    )
    # Validated with the filters so that `?page=zzz` is a message, not a silent first page.
    page = forms.IntegerField(label=_("页码"), required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["attribute"].choices = [("", _("全部"))] + codes.HOUSEHOLD_ATTRIBUTE.choices
        self.fields["cause"].choices = [("", _("全部"))] + codes.POVERTY_CAUSE.choices
        self.fields["exit_year"].choices = [("", _("全部"))] + [(y, str(y)) for y in range(2014, 2021)]
        for name, field in self.fields.items():
            css = (
                "form-select form-select-sm"
                if name in {"attribute", "exit_year", "cause"}
                else "form-control form-control-sm"
            )
            field.widget.attrs.setdefault("class", css)

    def to_filters(self) -> HouseholdFilters:
        data = self.cleaned_data
        division = ""
        for name, length in (("village", 12), ("township", 9), ("county", 6)):
            if data.get(name):
                division = data[name][:length]
                break
        return HouseholdFilters(
            division=division,
            attribute=data.get("attribute") or "",
            exit_year=data.get("exit_year"),
            cause=data.get("cause") or "",
            q=data.get("q") or "",
        )

    def division_options(self) -> dict[str, list[Any]]:
        """The options of the three cascading selects for the values currently chosen."""
        user = self.user
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        root = getattr(user, "scope", None)
        level = root.level if root else None
        counties = townships = villages = []
        if level in (None, "city", "province"):
            counties = list(children_in_scope(user, root.code if root else None).filter(level="county"))
            if root is None:  # administrator: the tree starts at the city
                city = children_in_scope(user, None).first()
                counties = list(children_in_scope(user, city.code).filter(level="county")) if city else []
        county = data.get("county") or (root.code if level == "county" else "")
        if county:
            townships = list(children_in_scope(user, county))
        township = data.get("township") or (root.code if level == "township" else "")
        if township:
            villages = list(children_in_scope(user, township))
        return {"counties": counties, "townships": townships, "villages": villages}


class ArchiveCheckForm(forms.Form):
    """A 一户一档 check on the household page: the date, the items found (ticked), a note."""

    checked_on = forms.DateField(
        label=_("核查日期"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("请填写核查日期。"),
            "invalid": _("核查日期格式不对，应为 2018-12-05 这样的日期。"),
        },
    )
    present_items = forms.MultipleChoiceField(
        label=_("档案中已有的材料"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": _("材料“%(value)s”不在本次活动的一户一档清单中，请刷新页面后重新勾选。")},
    )
    note = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"max_length": _("备注不能超过 %(limit_value)d 个字（现在 %(show_value)d 个）。")},
    )

    def __init__(self, *args: Any, items: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["present_items"].choices = [(item, item) for item in items]
        self.fields["checked_on"].initial = timezone.localdate()


ARCHIVE_SHEET_MAX_SIZE = 20 * 1024 * 1024  # a county's sheet of 30,000 households is about 2 MB


class ArchiveSheetUploadForm(forms.Form):
    """The filled-in 一户一档核查表 (xlsx, xls, ods or csv)."""

    file = forms.FileField(
        label=_("核查表文件"),
        error_messages={"required": _("请选择要上传的核查表文件。"), "empty": _("上传的文件是空的。")},
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".xlsx,.xlsm,.xls,.xlsb,.ods,.csv,.txt"}
        ),
    )

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        name = uploaded.name or ""
        if not any(name.lower().endswith(suffix) for suffix in SUFFIXES):
            raise forms.ValidationError(
                _("“%(name)s”不是表格文件：请上传 xlsx、xls、ods 或 csv 文件。") % {"name": name}
            )
        if uploaded.size > ARCHIVE_SHEET_MAX_SIZE:
            raise forms.ValidationError(_("文件超过 20 MB，请按乡镇或村分开上传。"))
        return uploaded
