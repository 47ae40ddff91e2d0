"""The upload form of the import pages. Files are read from `request.FILES.getlist("files")`: a
multiple file field of Django's own would need a custom widget and field for the same thing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from lookback.registry.importers.engine import kind_choices
from lookback.registry.importers.readers import SUFFIXES

MAX_FILES = 20
MAX_FILE_SIZE = 300 * 1024 * 1024


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("表格类型"), required=False)
    as_national_snapshot = forms.BooleanField(label=_("作为国扶系统快照保存（不并入台账，用于比对）"), required=False)
    snapshot_date = forms.DateField(label=_("快照日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, files_list: list[UploadedFile] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files_list = files_list or []
        self.fields["kind"].choices = [("", _("自动识别（按表头）"))] + [(c, label) for c, label in kind_choices()]
        self.fields["kind"].widget.attrs["class"] = "form-select"
        self.fields["snapshot_date"].widget.attrs["class"] = "form-control"
        self.fields["as_national_snapshot"].widget.attrs["class"] = "form-check-input"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.files_list:
            raise forms.ValidationError(_("请选择要导入的文件。"))
        if len(self.files_list) > MAX_FILES:
            raise forms.ValidationError(_("一次最多导入 %(n)d 个文件。") % {"n": MAX_FILES})
        for uploaded in self.files_list:
            name = uploaded.name or ""
            if not any(name.lower().endswith(s) for s in SUFFIXES):
                raise forms.ValidationError(
                    _("“%(name)s”不是可导入的文件：请上传 xlsx、xls、ods 或 csv 文件。") % {"name": name}
                )
            if uploaded.size == 0:
                raise forms.ValidationError(_("“%(name)s”是空文件。") % {"name": name})
            if uploaded.size > MAX_FILE_SIZE:
                raise forms.ValidationError(_("“%(name)s”超过 300 MB。") % {"name": name})
        if data.get("as_national_snapshot") and data.get("kind") not in ("", "households", "members", None):
            raise forms.ValidationError(_("国扶系统快照只能包含贫困户信息表和家庭成员信息表。"))
        return data
