from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lookback.checks.catalogue import DIMENSIONS, TOPICS, all_rules
from lookback.checks.exports import FORMATS
from lookback.checks.models import Finding
from lookback.checks.selectors import FindingFilters
from lookback.divisions.selectors import divisions_for_user

STATUS_CHOICES = [("", _("全部状态")), *Finding.Status.choices]


class FindingFilterForm(forms.Form):
    """The findings list's filters. A bad value is a message on the page, never a 500."""

    rule = forms.ChoiceField(label=_("规则"), required=False)
    dimension = forms.TypedChoiceField(label=_("维度"), required=False, coerce=int, empty_value=None)
    topic = forms.ChoiceField(label=_("问题类别"), required=False)
    division = forms.CharField(label=_("地区"), required=False, max_length=12)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)
    household = forms.IntegerField(label=_("户"), required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        rules = all_rules()
        self.fields["rule"].choices = [("", _("全部规则"))] + [(r.code, f"{r.code} {r.title}") for r in rules]
        self.fields["dimension"].choices = [("", _("全部维度"))] + [
            (d, f"{clause} {label}") for d, (clause, label) in DIMENSIONS.items()
        ]
        used = sorted({r.topic for r in rules}, key=TOPICS.index)
        self.fields["topic"].choices = [("", _("全部类别"))] + [(t, t) for t in used]
        self.fields["division"].widget = forms.Select(choices=self.division_choices())
        for name, field in self.fields.items():
            if name != "household":
                field.widget.attrs.setdefault("class", "form-select form-select-sm")

    def division_choices(self) -> list[tuple[str, str]]:
        """Counties and townships inside the user's scope (codes as prefixes)."""
        choices = [("", str(_("全部地区")))]
        divisions = divisions_for_user(self.user).filter(level__in=["county", "township"]).order_by("code")
        for d in divisions.only("code", "name", "level")[:500]:
            indent = "\u3000" if d.level == "township" else ""
            choices.append((d.prefix, f"{indent}{d.name}"))
        return choices

    def clean_division(self) -> str:
        code = (self.cleaned_data.get("division") or "").strip()
        if not code:
            return ""
        if not code.isdigit() or code not in {c for c, _label in self.division_choices()}:
            raise forms.ValidationError(_("所选地区不存在或不在您的管辖范围内。"), code="division")
        return code

    def to_filters(self) -> FindingFilters:
        if not self.is_bound:
            return FindingFilters()
        data = self.cleaned_data
        return FindingFilters(
            rule=data.get("rule") or "",
            dimension=data.get("dimension"),
            topic=data.get("topic") or "",
            division=data.get("division") or "",
            status=data.get("status") if "status" in self.data else Finding.Status.OPEN,
            household=data.get("household"),
        )


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, f) for f in FORMATS])


class WaiverRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("豁免理由"),
        min_length=4,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control", "placeholder": _("如：已在外省参加医保")}),
    )
    evidence_text = forms.CharField(
        label=_("佐证说明或文号"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("如：某某县医保局参保证明")}),
    )
    evidence_file = forms.FileField(
        label=_("佐证材料"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("evidence_text") and not data.get("evidence_file"):
            raise forms.ValidationError(_("请上传佐证材料或填写佐证说明（如文号、证明名称）。"))
        return data


class WaiverDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("reject", _("驳回"))])
    note = forms.CharField(
        label=_("审批意见"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
