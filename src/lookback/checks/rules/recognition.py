"""二(五) 认可度: a first responsible helper follows each household, visits and checks in regularly;
households know their helper and are satisfied."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _

from lookback.checks.catalogue import Param, Severity, SubjectKind, rule
from lookback.checks.sql import ASSIGNMENT, HELPER, HOUSEHOLD, MEMBER, NULL_ID, VISIT, Ctx

CLAUSE = "二(五)"
REF = _("基准日期")


@rule(
    code="R5-01",
    topic="no_helper",
    dimension=5,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("没有第一帮扶责任人"),
    explanation=_(
        "第一帮扶责任人工作机制要落实到位，每户都应有一名第一帮扶责任人全程跟踪帮扶。该户没有帮扶责任人，"
        "或有帮扶责任人但没有指定第一帮扶责任人。请落实挂钩帮扶并明确第一帮扶责任人。"
    ),
)
def no_helper(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()},
        CASE WHEN EXISTS (SELECT 1 FROM {ASSIGNMENT} a WHERE a.household_id = h.id)
            THEN '有帮扶责任人，但未指定第一帮扶责任人' ELSE '没有帮扶责任人' END AS detail
    FROM {HOUSEHOLD} h
    WHERE NOT EXISTS (SELECT 1 FROM {ASSIGNMENT} a WHERE a.household_id = h.id AND a.is_first IS TRUE)"""


@rule(
    code="R5-02",
    topic="helper_is_poor",
    dimension=5,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HELPER,
    title=_("帮扶责任人本人是建档立卡贫困人口"),
    explanation=_(
        "帮扶责任人应是有帮扶能力的干部。该帮扶责任人的证件号码与某户在册成员相同，即本人是贫困户成员。"
        "请更换帮扶责任人，或核实证件号码是否录错。"
    ),
)
def helper_is_poor(ctx: Ctx) -> str:
    return f"""SELECT {ctx.text("hp.id")} AS subject_key, h.id AS household_id, m.id AS member_id,
        h.household_no AS household_no, h.division_code AS division_code,
        '帮扶责任人' || hp.name || '（' || hp.work_unit || '）是户编号 ' || h.household_no || ' 的在册成员' AS detail
    FROM {HELPER} hp JOIN {MEMBER} m ON m.id_number = hp.id_number
    JOIN {HOUSEHOLD} h ON h.id = m.household_id
    WHERE COALESCE(hp.id_number, '') <> '' AND {ctx.active("m")}
      AND EXISTS (SELECT 1 FROM {ASSIGNMENT} a WHERE a.helper_id = hp.id)"""


@rule(
    code="R5-03",
    topic="helper_overloaded",
    dimension=5,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HELPER,
    title=_("帮扶责任人帮扶户数超过上限"),
    explanation=_(
        "每名帮扶责任人帮扶的户数不应超过活动设定的上限，否则难以做到全程跟踪帮扶。请调整挂钩帮扶，增派帮扶责任人。"
    ),
    params=(Param("max_households_per_helper", 5, _("每名帮扶责任人最多帮扶户数")),),
)
def helper_overloaded(ctx: Ctx) -> str:
    limit = int(ctx.setting("max_households_per_helper", 5))
    counts = f"""(SELECT a.helper_id, COUNT(DISTINCT a.household_id) AS n, MIN(h.division_code) AS division_code
        FROM {ASSIGNMENT} a JOIN {HOUSEHOLD} h ON h.id = a.household_id GROUP BY a.helper_id)"""
    return f"""SELECT {ctx.text("hp.id")} AS subject_key, {NULL_ID} AS household_id, {NULL_ID} AS member_id,
        NULL AS household_no, c.division_code AS division_code,
        '帮扶责任人' || hp.name || '（' || hp.work_unit || '）帮扶 ' || {ctx.text("c.n")} || ' 户，超过上限 {limit} 户'
        AS detail
    FROM {HELPER} hp JOIN {counts} c ON c.helper_id = hp.id
    WHERE c.n > {limit}"""


@rule(
    code="R5-04",
    topic="no_visit",
    dimension=5,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("走访期内没有入户走访"),
    explanation=_(
        "方案三(一)要求帮扶责任人在走访期（如12月）入户核实数据、填写手册、收集需求。该户在活动设定的走访期内没有走访记录。"
        "请帮扶责任人尽快入户走访并录入记录。"
    ),
    uses=(_("走访开始日期"), _("走访结束日期")),
)
def no_visit(ctx: Ctx) -> str:
    start = ctx.day_start(ctx.campaign.visit_start)
    end = ctx.day_start(ctx.campaign.visit_end + datetime.timedelta(days=1))
    window = f"{ctx.campaign.visit_start:%Y-%m-%d} 至 {ctx.campaign.visit_end:%Y-%m-%d}"
    return f"""SELECT {ctx.household_subject()},
        {ctx.p("走访期 " + window + " 内没有走访记录")}
        || COALESCE('（最近一次 ' || SUBSTR((SELECT {ctx.text("MAX(v.visited_at)")} FROM {VISIT} v
            WHERE v.household_id = h.id AND v.visited_at < {start}), 1, 10) || '）', '') AS detail
    FROM {HOUSEHOLD} h
    WHERE NOT EXISTS (SELECT 1 FROM {VISIT} v WHERE v.household_id = h.id
        AND v.visited_at >= {start} AND v.visited_at < {end})"""


@rule(
    code="R5-05",
    topic="checkin_low",
    dimension=5,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("基准日前12个月签到次数不足"),
    explanation=_(
        "帮扶责任人应通过手机APP定期签到（走访即签到）。截至基准日前12个月内，该户的签到次数少于活动要求的次数。"
        "请督促帮扶责任人按要求定期走访签到。"
    ),
    params=(Param("checkins_required", 4, _("基准日前12个月内至少签到次数")),),
    uses=(REF,),
)
def checkin_low(ctx: Ctx) -> str:
    required = int(ctx.setting("checkins_required", 4))
    since = ctx.day_start(ctx.ref - datetime.timedelta(days=365) + datetime.timedelta(days=1))
    until = ctx.ref_end()
    # Per household through the household_id index: visits of one household sit together.
    count = f"""(SELECT COUNT(*) FROM {VISIT} v WHERE v.household_id = h.id
        AND v.visited_at >= {since} AND v.visited_at < {until})"""
    return f"""SELECT subject_key, household_id, member_id, household_no, division_code,
        '基准日前12个月签到 ' || {ctx.text("n")} || ' 次，少于要求的 {required} 次' AS detail
    FROM (SELECT {ctx.household_subject()}, {count} AS n FROM {HOUSEHOLD} h) x
    WHERE x.n < {required}"""


def _latest_visit(ctx: Ctx) -> str:
    cutoff = ctx.ref_end()
    latest = f"""(SELECT household_id, MAX(visited_at) AS last_at FROM {VISIT}
        WHERE visited_at < {cutoff} GROUP BY household_id)"""
    return f"""FROM {HOUSEHOLD} h JOIN {latest} lv ON lv.household_id = h.id
    JOIN {VISIT} v ON v.household_id = h.id AND v.visited_at = lv.last_at"""


@rule(
    code="R5-06",
    topic="helper_unknown",
    dimension=5,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("贫困户不知晓帮扶责任人"),
    explanation=_(
        "贫困户应知晓自己的帮扶干部。截至基准日最近一次走访记录显示该户不知晓帮扶责任人。"
        "请帮扶责任人加强联系，留下联系方式，讲清帮扶政策。"
    ),
    uses=(REF,),
)
def helper_unknown(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()},
        '最近一次走访（' || SUBSTR({ctx.text("v.visited_at")}, 1, 10) || '）记录该户不知晓帮扶责任人' AS detail
    {_latest_visit(ctx)}
    WHERE v.knows_helper IS FALSE"""


@rule(
    code="R5-07",
    topic="dissatisfied",
    dimension=5,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("贫困户对帮扶不满意"),
    explanation=_(
        "贫困户应对帮扶工作满意。截至基准日最近一次走访记录的满意度为“不满意”。请了解不满意的原因和诉求，"
        "调整帮扶措施，必要时更换帮扶责任人。"
    ),
    uses=(REF,),
)
def dissatisfied(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()},
        '最近一次走访（' || SUBSTR({ctx.text("v.visited_at")}, 1, 10) || '）满意度为不满意'
        || COALESCE('：' || NULLIF(v.needs, ''), '') AS detail
    {_latest_visit(ctx)}
    WHERE v.satisfaction = '不满意'"""
