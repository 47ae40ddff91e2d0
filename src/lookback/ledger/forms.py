"""Forms of the ledger pages. They parse and check the input; the rules live in `services.py`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lookback.divisions.forms import CascadeCleaningMixin
from lookback.divisions.models import Division
from lookback.divisions.selectors import children_in_scope
from lookback.ledger import permissions as perms
from lookback.ledger.imports import default_source
from lookback.ledger.models import AccountabilityKind, Band, Dimension, Severity, Source, State
from lookback.ledger.selectors import ProblemFilters, assignable_users, household_by_number, household_members
from lookback.registry.models import Household, Member

ALL = [("", _("全部"))]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _style(form: forms.Form, small: bool = False) -> None:
    size = " form-control-sm" if small else ""
    select_size = " form-select-sm" if small else ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select" + select_size)
        elif not isinstance(widget, forms.HiddenInput):
            widget.attrs.setdefault("class", "form-control" + size)


class PlaceMixin(CascadeCleaningMixin):
    """Three cascading selects (县 → 乡镇 → 村) limited to the user's scope; the most specific chosen
    division wins. The options come from the registry's htmx endpoint."""

    def chosen_code(self) -> str:
        for name in ("village", "township", "county"):
            if self.cleaned_data.get(name):
                return self.cleaned_data[name]
        return ""

    def division_options(self) -> dict[str, list[Any]]:
        user = self.user
        data = getattr(self, "cleaned_data", None) or {}
        bound = getattr(self, "data", {}) or {}
        root = getattr(user, "scope", None)
        level = root.level if root else None
        counties: list[Any] = []
        townships: list[Any] = []
        villages: list[Any] = []
        if level in (None, "city", "province"):
            if root is None:
                city = children_in_scope(user, None).first()
                counties = list(children_in_scope(user, city.code).filter(level="county")) if city else []
            else:
                counties = list(children_in_scope(user, root.code).filter(level="county"))
        county = data.get("county") or bound.get("county") or (root.code if level == "county" else "")
        if county:
            townships = list(children_in_scope(user, county))
        township = data.get("township") or bound.get("township") or (root.code if level == "township" else "")
        if township:
            villages = list(children_in_scope(user, township))
        return {"counties": counties, "townships": townships, "villages": villages}


class ProblemFilterForm(PlaceMixin, forms.Form):
    state = forms.ChoiceField(label=_("整改状态"), required=False, choices=ALL + State.choices)
    dimension = forms.TypedChoiceField(
        label=_("维度"), required=False, coerce=int, empty_value=None, choices=ALL + Dimension.choices
    )
    source = forms.ChoiceField(label=_("问题来源"), required=False, choices=ALL + Source.choices)
    band = forms.ChoiceField(label=_("整改时限"), required=False, choices=ALL + Band.choices)
    severity = forms.ChoiceField(label=_("严重程度"), required=False, choices=ALL + Severity.choices)
    county = forms.CharField(label=_("县"), required=False)
    township = forms.CharField(label=_("乡镇"), required=False)
    village = forms.CharField(label=_("村"), required=False)
    responsible = forms.CharField(label=_("责任人"), required=False, max_length=50)
    q = forms.CharField(
        label=_("查找"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _("问题描述、户编号、户主或问题编号")}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        _style(self, small=True)

    def to_filters(self, campaign_id: int | None) -> ProblemFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return ProblemFilters(
            campaign=campaign_id,
            state=data.get("state") or "",
            dimension=data.get("dimension"),
            source=data.get("source") or "",
            band=data.get("band") or "",
            severity=data.get("severity") or "",
            division=_prefix(self.chosen_code()) if data else "",
            responsible=data.get("responsible") or "",
            q=data.get("q") or "",
        )


def _prefix(code: str) -> str:
    if not code:
        return ""
    division = Division.objects.filter(code=code).first()
    return division.prefix if division else code


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,.pdf,.xlsx,.xls,.docx,.doc"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ProblemForm(PlaceMixin, forms.Form):
    """Entering a problem by hand, on a phone as well as a desk."""

    household_no = forms.CharField(
        label=_("户编号"),
        required=False,
        max_length=40,
        help_text=_("涉及具体农户时填写；所在村随户带出。"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "hx-get": reverse_lazy("ledger:household_lookup"),
                # `changed` on both: leaving the field after typing must not ask again and reset the
                # member already chosen; the chosen member is sent along and kept when it does ask.
                "hx-trigger": "input changed delay:400ms, change changed",
                "hx-target": "#household-lookup",
                "hx-include": "#id_member",
            }
        ),
    )
    # Rendered by the household lookup (htmx) once the household is known: one of its members, or none.
    member = forms.CharField(label=_("家庭成员"), required=False, max_length=20)
    county = forms.CharField(label=_("县"), required=False)
    township = forms.CharField(label=_("乡镇"), required=False)
    village = forms.CharField(label=_("村"), required=False)
    source = forms.ChoiceField(label=_("问题来源"), choices=[c for c in Source.choices if c[0] != Source.RULE])
    dimension = forms.TypedChoiceField(label=_("维度"), coerce=int, choices=Dimension.choices)
    category = forms.CharField(label=_("问题类别"), required=False, max_length=100)
    description = forms.CharField(label=_("问题描述"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    severity = forms.ChoiceField(label=_("严重程度"), choices=Severity.choices, initial=Severity.NORMAL)
    found_on = forms.DateField(label=_("发现日期"), widget=DATE_INPUT)
    measures = forms.CharField(
        label=_("整改措施"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    responsible_unit = forms.CharField(label=_("责任单位"), required=False, max_length=100)
    responsible_person = forms.CharField(label=_("责任人"), required=False, max_length=50)
    responsible_user = forms.ModelChoiceField(
        label=_("责任人账号"), required=False, queryset=None, empty_label=_("（不指定）")
    )
    deadline = forms.DateField(label=_("整改时限"), required=False, widget=DATE_INPUT)
    on_the_spot = forms.BooleanField(label=_("立行立改（已当场整改，上传佐证材料后提交核验）"), required=False)
    evidence = MultipleFileField(label=_("佐证材料"), required=False)

    def __init__(self, *args: Any, user: Any, campaign: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["responsible_user"].queryset = assignable_users(user)
        self.fields["found_on"].initial = timezone.localdate()
        self.fields["source"].initial = default_source(user)
        days = int(campaign.parameter("rectification_default_days", 30)) if campaign else 30
        self.fields["deadline"].initial = timezone.localdate() + timedelta(days=days)
        if not perms.can_work(user):
            for name in ("on_the_spot", "evidence"):
                del self.fields[name]
        _style(self)

    def clean_household_no(self) -> Household | None:
        number = (self.cleaned_data.get("household_no") or "").strip()
        if not number:
            return None
        household = household_by_number(self.user, number)
        if household is None:
            raise forms.ValidationError(_("户编号“%(n)s”不存在，或不在您的管辖范围内。") % {"n": number})
        return household

    def clean_member(self) -> Member | None:
        """A member of the chosen household, in the user's scope (a helper: of their own households)."""
        value = (self.cleaned_data.get("member") or "").strip()
        if not value:
            return None
        if "household_no" not in self.cleaned_data:  # the 户编号 itself was refused: say that only
            return None
        household = self.cleaned_data.get("household_no")
        if household is None:
            raise forms.ValidationError(_("选择家庭成员前请先填写户编号。"))
        member = None
        if value.isdigit():
            member = Member.objects.in_scope(self.user).filter(pk=int(value), household=household).first()
        if member is None:
            raise forms.ValidationError(
                _("所选家庭成员不属于户编号“%(n)s”，或不在您的管辖范围内。") % {"n": household.household_no}
            )
        return member

    def lookup_context(self) -> dict[str, Any]:
        """What the household lookup shows under the 户编号 when the form is shown again."""
        if not self.is_bound:
            return {}
        number = (self.data.get("household_no") or "").strip()
        household = getattr(self, "cleaned_data", {}).get("household_no")
        if not isinstance(household, Household):
            household = household_by_number(self.user, number)
        selected = str(self.data.get("member") or "")
        return {
            "household": household,
            "number": number,
            "members": household_members(self.user, household) if household else [],
            "selected": int(selected) if selected.isdigit() else None,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("household_no") and not self.chosen_code() and not self.errors:
            scope = getattr(self.user, "scope", None)
            # A township or village user's own place is the default.
            if scope is None or scope.level not in ("township", "village"):
                raise forms.ValidationError(_("请填写户编号，或选择问题所在的乡镇、村。"))
        return data

    def place(self) -> Division | None:
        code = self.chosen_code()
        if code:
            return Division.objects.get(code=code)
        return getattr(self.user, "scope", None)


class PlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    measures = forms.CharField(
        label=_("整改措施"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    responsible_unit = forms.CharField(label=_("责任单位"), required=False, max_length=100)
    responsible_person = forms.CharField(label=_("责任人"), required=False, max_length=50)
    responsible_user = forms.ModelChoiceField(
        label=_("责任人账号"), required=False, queryset=None, empty_label=_("（不指定）")
    )
    deadline = forms.DateField(label=_("整改时限"), required=False, widget=DATE_INPUT)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible_user"].queryset = assignable_users(user)
        _style(self)


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class ReturnForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("退回原因"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=_("佐证材料"), widget=forms.ClearableFileInput(attrs={"accept": "image/*,.pdf,.xlsx,.xls,.docx,.doc"})
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("整改进展"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class BulkForm(forms.Form):
    items = forms.MultipleChoiceField(required=False)  # "id:version"; checked in clean_items
    responsible_person = forms.CharField(label=_("责任人"), required=False, max_length=50)
    responsible_unit = forms.CharField(label=_("责任单位"), required=False, max_length=100)
    responsible_user = forms.ModelChoiceField(
        label=_("责任人账号"), required=False, queryset=None, empty_label=_("（不修改）")
    )
    deadline = forms.DateField(label=_("整改时限"), required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible_user"].queryset = assignable_users(user)
        raw = self.data.getlist("items") if hasattr(self.data, "getlist") else self.data.get("items", [])
        self.fields["items"].choices = [(v, v) for v in raw]
        _style(self, small=True)

    def clean_items(self) -> list[tuple[int, int]]:
        items = []
        for value in self.cleaned_data.get("items") or []:
            try:
                pk, version = (int(part) for part in str(value).split(":", 1))
            except ValueError as exc:
                raise forms.ValidationError(_("勾选的问题有误，请刷新页面后重试。")) from exc
            items.append((pk, version))
        if not items:
            raise forms.ValidationError(_("请先勾选要处理的问题。"))
        return items


class UploadForm(forms.Form):
    file = forms.FileField(label=_("问题台帐文件（.xlsx）"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class ReportTextForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    basic_situation = forms.CharField(
        label=_("一、基本情况"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 5})
    )
    rectification_summary = forms.CharField(
        label=_("三、整改情况（补充说明）"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 5})
    )
    next_steps = forms.CharField(
        label=_("四、下一步工作"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class AccountabilityForm(PlaceMixin, forms.Form):
    kind = forms.ChoiceField(label=_("问责方式"), choices=AccountabilityKind.choices)
    person_name = forms.CharField(label=_("被问责人"), max_length=50)
    person_position = forms.CharField(label=_("职务"), required=False, max_length=100)
    unit = forms.CharField(label=_("单位"), max_length=100)
    county = forms.CharField(label=_("县"), required=False)
    township = forms.CharField(label=_("乡镇"), required=False)
    village = forms.CharField(label=_("村"), required=False)
    reason = forms.CharField(label=_("问责事由"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    problem_ids = forms.CharField(
        label=_("关联问题编号"),
        required=False,
        max_length=500,
        help_text=_("多个编号用逗号或空格分开，例如 12, 15"),
    )
    complaint_ref = forms.CharField(label=_("关联举报编号"), required=False, max_length=100)
    decided_by = forms.CharField(label=_("决定机关"), max_length=100)
    decided_on = forms.DateField(label=_("决定日期"), widget=DATE_INPUT)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["decided_on"].initial = timezone.localdate()
        _style(self)

    def clean_problem_ids(self) -> list[int]:
        import re

        raw = self.cleaned_data.get("problem_ids") or ""
        parts = [p for p in re.split(r"[\s,，、#]+", raw) if p]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError(_("问题编号只能是数字。"))
        return [int(p) for p in parts]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not self.chosen_code():
            raise forms.ValidationError(_("请选择被问责单位所在的县、乡镇或村。"))
        return data


class SelfCheckForm(forms.Form):
    """One yes/no question and a note per self-check item (fields built from the items)."""

    def __init__(self, *args: Any, items: list[Any], answers: dict[int, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            answer = answers.get(item.pk)
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                choices=[("yes", _("是")), ("no", _("否"))],
                widget=forms.RadioSelect,
                coerce=lambda v: v == "yes",
                required=False,
                initial=None if answer is None else ("yes" if answer.answer else "no"),
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("情况说明"),
                required=False,
                max_length=500,
                initial=answer.note if answer else "",
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )

    def answers(self) -> dict[int, tuple[bool, str]]:
        result = {}
        for item in self.items:
            value = self.cleaned_data.get(f"item_{item.pk}")
            if value in (True, False) and self.data.get(f"item_{item.pk}") in ("yes", "no"):
                result[item.pk] = (value, self.cleaned_data.get(f"note_{item.pk}") or "")
        return result

    def rows(self) -> list[tuple[Any, Any, Any]]:
        return [(item, self[f"item_{item.pk}"], self[f"note_{item.pk}"]) for item in self.items]


def today() -> date:
    return timezone.localdate()
