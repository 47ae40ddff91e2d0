"""二(一) 到位度 rules that judge the work procedure kept in the ledger, declared in the checks catalogue.

They live with the ledger, not under `checks/rules/`, because they read the ledger's tables and the
checks app sits below the ledger (it never imports it). `ChecksConfig.ready` discovers this module
(`autodiscover_modules("check_rules")`), so the engine, the catalogue page, the findings export and
`docs/rules.md` take these rules like any other.

"As of". Every other rule judges the registry as of the campaign's reference date. These two judge
live procedure (a 2018 campaign's problem still open today is overdue today; a report that was never
sent is missing today), so they judge as of the day the rule runs (Asia/Shanghai): the local date of
the run's start, recorded on the `CheckRun` and as the findings' `opened_on`. To re-judge a given day
reproducibly, set the campaign parameter `procedure_as_of` (YYYY-MM-DD); reports first submitted
after that day then count as not submitted. Problem states are the ledger's current ones (the
ledger keeps no state per day to judge a past day by).

The detail texts never contain the judging date, so that re-running on another day changes a
finding only when the facts change (a waiver lapses when its finding's detail changes).

Their findings open ledger problems like every rule finding does: one unit-level problem at the
township (dimension 1). The counts of `rectification_overdue` leave out the problems these two rules
opened themselves, so a problem about overdue problems never feeds itself.
"""

from __future__ import annotations

import datetime

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lookback.checks.catalogue import Param, Severity, SubjectKind, rule
from lookback.checks.sql import HOUSEHOLD, NULL_ID, Ctx
from lookback.divisions.models import Division
from lookback.ledger.models import Problem, Source, State, TownshipReport

CLAUSE = "二(一)"
RECTIFICATION_OVERDUE = "R1-01"
REPORT_LATE = "R1-02"
PROCEDURE_RULES = (RECTIFICATION_OVERDUE, REPORT_LATE)
RUN_DAY = "运行当天"
# How R1-02's detail starts: submitted late, or not submitted although the deadline has passed.
SUBMITTED_LATE = "逾期报送"
NOT_SUBMITTED = "逾期未报送"

PROBLEM = Problem._meta.db_table
REPORT = TownshipReport._meta.db_table
DIVISION = Division._meta.db_table

AS_OF = Param("procedure_as_of", RUN_DAY, _("判断日期，格式 YYYY-MM-DD"))
OVERDUE_DAYS = Param("accountability_overdue_days", 15, _("超过整改时限多少天仍未整改完成即列为问责线索"))


class ParameterError(DatabaseError):
    """A campaign parameter these rules cannot read. A DatabaseError so that the engine records it as
    this rule's error (with this message) and still runs the other rules."""


def as_of(ctx: Ctx) -> datetime.date:
    """The day these rules judge: the campaign's `procedure_as_of`, or the run's day (local time)."""
    value = ctx.setting(AS_OF.name, RUN_DAY)
    if value in (None, "", RUN_DAY):
        return timezone.localdate()
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ParameterError(f"活动参数 {AS_OF.name} 应为日期（YYYY-MM-DD）或“{RUN_DAY}”，现为“{value}”。") from exc


def overdue_days(ctx: Ctx) -> int:
    value = ctx.setting(OVERDUE_DAYS.name, OVERDUE_DAYS.default)
    try:
        days = int(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"活动参数 {OVERDUE_DAYS.name} 应为天数（整数），现为“{value}”。") from exc
    if days < 0:
        raise ParameterError(f"活动参数 {OVERDUE_DAYS.name} 不能为负数。")
    return days


def local_date_text(ctx: Ctx, expr: str) -> str:
    """A stored (UTC) datetime as the local calendar date, YYYY-MM-DD."""
    if ctx.vendor == "postgresql":
        return f"TO_CHAR({expr} AT TIME ZONE {ctx.p(timezone.get_current_timezone_name())}, 'YYYY-MM-DD')"
    # SQLite keeps UTC text; the zone's offset (China keeps no summer time) moves it to the local day.
    offset = timezone.localtime().utcoffset() or datetime.timedelta()
    return f"SUBSTR(DATETIME({expr}, {ctx.p(f'{int(offset.total_seconds()):+d} seconds')}), 1, 10)"


def unit_code(expr: str) -> str:
    """The unit a place belongs to: its township; a place above township level is its own unit."""
    return (
        f"(CASE WHEN SUBSTR({expr}, 7, 3) <> '000' THEN SUBSTR({expr}, 1, 9) || '000' "
        f"WHEN SUBSTR({expr}, 5, 2) <> '00' THEN SUBSTR({expr}, 1, 6) || '000000' ELSE {expr} END)"
    )


def unit_of(code: str) -> str:
    """`unit_code` in Python, for the same 12-digit code."""
    if code[6:9] != "000":
        return code[:9] + "000"
    if code[4:6] != "00":
        return code[:6] + "000000"
    return code


def unit_subject(u: str = "u") -> str:
    return (
        f"{u}.code AS subject_key, {NULL_ID} AS household_id, {NULL_ID} AS member_id, "
        f"NULL AS household_no, {u}.code AS division_code"
    )


@rule(
    code=RECTIFICATION_OVERDUE,
    topic="rectification_overdue",
    dimension=1,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.UNIT,
    title=_("问题超过整改时限仍未整改完成"),
    explanation=_(
        "方案四(三)要求逐一整改问题台帐中的问题，四(四)要求对整改不到位的严肃问责。该单位（乡镇；县、市本级的问题"
        "归县、市）有问题超过整改时限若干天（活动参数，默认 15 天）仍处于“待整改”或“整改中”，明细列出个数、"
        "各状态个数、最早的整改时限和责任单位。“待核验”的问题已由单位标记整改完成、等待核验，不计入。"
        "本规则按运行当天（或活动参数 procedure_as_of 指定的日期）判断，而不是按基准日期；"
        "不计本条和 R1-02 自己登记的问题。发现列入问责线索，并在台帐中登记为该单位的问题；"
        "超期问题整改完成后，本发现在下次运行时消失，问题转为待核验。"
    ),
    params=(OVERDUE_DAYS, AS_OF),
    uses=(_("问题台帐的整改时限和整改状态"),),
)
def rectification_overdue(ctx: Ctx) -> str:
    days = overdue_days(ctx)
    limit = as_of(ctx) - datetime.timedelta(days=days)
    overdue = f"""p.campaign_id = {ctx.p(ctx.campaign.pk)}
          AND p.state IN ('{State.OPEN.value}', '{State.IN_PROGRESS.value}')
          AND p.deadline IS NOT NULL AND p.deadline < {ctx.p(limit)}
          AND NOT (p.source = '{Source.RULE.value}' AND p.rule_code IN {ctx.plist(PROCEDURE_RULES)})"""
    # The responsible units, each once and in a fixed order (the detail is a waiver's fingerprint).
    units = f"""(SELECT d.unit_code, {ctx.agg("d.unit")} AS units FROM (
            SELECT DISTINCT {unit_code("p.division_code")} AS unit_code, p.responsible_unit AS unit
            FROM {PROBLEM} p WHERE {overdue} AND p.responsible_unit <> '' ORDER BY 1, 2) d
        GROUP BY d.unit_code)"""
    counts = f"""(SELECT {unit_code("p.division_code")} AS unit_code, COUNT(*) AS n,
            SUM(CASE WHEN p.state = '{State.OPEN.value}' THEN 1 ELSE 0 END) AS n_open,
            SUM(CASE WHEN p.state = '{State.IN_PROGRESS.value}' THEN 1 ELSE 0 END) AS n_progress,
            MIN(p.deadline) AS earliest
        FROM {PROBLEM} p WHERE {overdue}
        GROUP BY {unit_code("p.division_code")})"""
    return f"""SELECT {unit_subject("u")},
        {ctx.text("c.n")} || ' 个问题超过整改时限 {days} 天以上仍未整改完成（待整改 ' || {ctx.text("c.n_open")}
        || ' 个，整改中 ' || {ctx.text("c.n_progress")} || ' 个）；最早整改时限 ' || {ctx.text("c.earliest")}
        || '；责任单位：' || SUBSTR(COALESCE(un.units, '未填写'), 1, 200) AS detail
    FROM {counts} c JOIN {DIVISION} u ON u.code = c.unit_code
    LEFT JOIN {units} un ON un.unit_code = c.unit_code"""


@rule(
    code=REPORT_LATE,
    topic="report_late",
    dimension=1,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.UNIT,
    title=_("乡镇自查报告逾期报送或未报送"),
    explanation=_(
        "方案三(二)要求乡镇在规定期限前向县里书面报送自查情况。有建档立卡户的乡镇，首次报送自查报告晚于活动的"
        "报送期限（逾期报送），或期限已过仍未报送（逾期未报送）。报送后被退回、再次报送的，按首次报送时间判断。"
        "期限是否已过按运行当天（或活动参数 procedure_as_of 指定的日期）判断，而不是按基准日期。"
        "逾期报送是已发生的事实，不会因之后的操作消失：发现列入问责线索，在台帐中登记的问题由单位说明情况后经核验销号。"
    ),
    params=(AS_OF,),
    uses=(_("乡镇书面材料报送期限"), _("乡镇自查报告的首次报送时间")),
)
def report_late(ctx: Ctx) -> str:
    judged = as_of(ctx)
    deadline = ctx.campaign.report_deadline
    deadline_end = ctx.day_start(deadline + datetime.timedelta(days=1))
    judged_end = ctx.day_start(judged + datetime.timedelta(days=1))
    due = "1 = 1" if judged > deadline else "1 = 0"
    submitted = f"(r.first_submitted_at IS NOT NULL AND r.first_submitted_at < {judged_end})"
    submitted_on = local_date_text(ctx, "r.first_submitted_at")
    return f"""SELECT {unit_subject("u")},
        CASE WHEN {submitted}
            THEN '{SUBMITTED_LATE}：报送期限 {deadline:%Y-%m-%d}，首次报送于 ' || {submitted_on}
            ELSE '{NOT_SUBMITTED}：报送期限 {deadline:%Y-%m-%d} 已过，尚未报送自查报告' END AS detail
    FROM {DIVISION} u
    JOIN (SELECT DISTINCT SUBSTR(h.division_code, 1, 9) AS prefix FROM {HOUSEHOLD} h) w
        ON w.prefix = SUBSTR(u.code, 1, 9)
    LEFT JOIN {REPORT} r ON r.township_id = u.id AND r.campaign_id = {ctx.p(ctx.campaign.pk)}
    WHERE u.level = 'township' AND (
        ({submitted} AND r.first_submitted_at >= {deadline_end})
        OR ({due} AND NOT {submitted}))"""
