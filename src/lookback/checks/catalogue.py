"""How a rule is declared, and the catalogue of every declared rule.

A rule is declared once, with everything the engine, the pages, the export and `docs/rules.md` need:
its stable code, topic (`spec/import-format.md` "Topics"), dimension 1–6 and seed clause, severity,
subject kind, the campaign parameters it reads, a Chinese title and explanation, and ONE set-based
query. The query is a function of the run context (`sql.Ctx`) returning SQL that is valid on SQLite
and PostgreSQL and yields the columns in `SUBJECT_COLUMNS`, one row per violating subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from lookback.checks.sql import Ctx

# What every rule query returns, by these names.
SUBJECT_COLUMNS = ("subject_key", "household_id", "member_id", "household_no", "division_code", "detail")

TOPICS = (
    "income_below_line",
    "income_inconsistent",
    "return_risk",
    "medical_insurance",
    "serious_illness_insurance",
    "stacked_medical_insurance",
    "school_dropout",
    "edu_subsidy",
    "dangerous_house",
    "relocation_not_moved_in",
    "relocation_no_income",
    "dibao_missing",
    "dibao_mismatch",
    "tekun_mismatch",
    "unemployed_no_help",
    "public_job",
    "loan_unmet",
    "loan_overdue",
    "id_invalid",
    "id_duplicate",
    "id_old_format",
    "required_missing",
    "code_invalid",
    "relation_invalid",
    "head_missing",
    "head_multiple",
    "member_count_mismatch",
    "age_school_mismatch",
    "deceased_listed",
    "national_mismatch",
    "national_missing",
    "dept_mismatch",
    "cause_contradiction",
    "labor_contradiction",
    "work_inconsistent",
    "archive_incomplete",
    "handbook_unfilled",
    "no_measure",
    "cause_unaddressed",
    "measure_incomplete",
    "measure_stale",
    "handout_only",
    "no_helper",
    "helper_is_poor",
    "helper_overloaded",
    "no_visit",
    "checkin_low",
    "helper_unknown",
    "dissatisfied",
    "project_procedure",
    "project_no_benefit",
    "fund_idle",
    "fund_irregular",
    "report_late",
    "rectification_overdue",
    "other",
)

DIMENSIONS: dict[int, tuple[str, Promise]] = {
    1: ("二(一)", _("到位度")),
    2: ("二(二)", _("推进度")),
    3: ("二(三)", _("准确度")),
    4: ("二(四)", _("实在度")),
    5: ("二(五)", _("认可度")),
    6: ("二(六)", _("效益度")),
}


class Severity(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class SubjectKind(models.TextChoices):
    HOUSEHOLD = "household", _("户")
    MEMBER = "member", _("家庭成员")
    HELPER = "helper", _("帮扶责任人")
    PROJECT = "project", _("项目")
    UNIT = "unit", _("单位")


@dataclass(frozen=True)
class Param:
    """A campaign parameter a rule reads (`campaign.parameters[name]`), with the default it falls back to."""

    name: str
    default: Any
    label: Promise | str


@dataclass(frozen=True)
class Rule:
    code: str
    topic: str
    dimension: int
    clause: str
    severity: str
    subject: str
    title: Promise | str
    explanation: Promise | str
    query: Callable[[Ctx], str]
    params: tuple[Param, ...] = ()
    # Campaign fields and tables the rule judges against, shown with the parameters.
    uses: tuple[Promise | str, ...] = ()
    # Department list kinds that must be loaded; without them the rule is skipped, never "everything".
    requires_lists: tuple[str, ...] = ()
    requires_snapshot: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.topic not in TOPICS:
            raise ValueError(f"{self.code}: unknown topic {self.topic!r}")
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"{self.code}: dimension must be 1–6")
        if self.subject not in SubjectKind.values:
            raise ValueError(f"{self.code}: unknown subject kind {self.subject!r}")
        if self.severity not in Severity.values:
            raise ValueError(f"{self.code}: unknown severity {self.severity!r}")

    @property
    def dimension_label(self) -> str:
        return str(DIMENSIONS[self.dimension][1])

    @property
    def severity_label(self) -> str:
        return str(Severity(self.severity).label)

    @property
    def subject_label(self) -> str:
        return str(SubjectKind(self.subject).label)

    def param_values(self, campaign: Any) -> list[tuple[Param, Any]]:
        parameters = (getattr(campaign, "parameters", None) or {}) if campaign is not None else {}
        return [(p, parameters.get(p.name, p.default)) for p in self.params]

    def param_texts(self, campaign: Any) -> list[tuple[Param, str]]:
        return [(p, format_value(v)) for p, v in self.param_values(campaign)]


def format_value(value: Any) -> str:
    """A parameter value as people read it: lists joined with 、, maps as key→values, a switch as 是/否
    with the JSON word an administrator types in the campaign's parameters."""
    if isinstance(value, bool):
        return f"{gettext('是') if value else gettext('否')}（{'true' if value else 'false'}）"
    if isinstance(value, dict):
        return "；".join(f"{k}→{'/'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


_RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.code in _RULES and _RULES[rule.code] is not rule:
        raise ValueError(f"rule {rule.code} declared twice")
    _RULES[rule.code] = rule
    return rule


def rule(**declaration: Any) -> Callable[[Callable[[Ctx], str]], Rule]:
    """Decorator form: the decorated function is the rule's query."""

    def wrap(query: Callable[[Ctx], str]) -> Rule:
        return register(Rule(query=query, **declaration))

    return wrap


def _sort_key(code: str) -> tuple[int, int, str]:
    # R2-03 → (2, 3); anything else after.
    try:
        dimension, number = code[1:].split("-", 1)
        return (int(dimension), int(number), code)
    except ValueError:
        return (99, 0, code)


def all_rules() -> list[Rule]:
    return [_RULES[code] for code in sorted(_RULES, key=_sort_key)]


def get_rule(code: str) -> Rule | None:
    return _RULES.get(code)
