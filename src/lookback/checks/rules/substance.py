"""二(四) 实在度: the cause found and matched by measures; every household with measures, content,
investment and a responsible person; no hand-outs only; no one-off quick fixes."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _

from lookback.checks.catalogue import Param, Severity, SubjectKind, rule
from lookback.checks.sql import HOUSEHOLD, MEASURE, Ctx

CLAUSE = "二(四)"

DEFAULT_CAUSE_MEASURES: dict[str, list[str]] = {
    "因病": ["健康扶贫"],
    "因残": ["健康扶贫", "低保兜底", "特困供养", "公益性岗位"],
    "因学": ["教育资助"],
    "因灾": ["危房改造", "产业扶持", "生活救助"],
    "缺技术": ["技能培训", "就业帮扶"],
    "缺劳动力": ["公益性岗位", "低保兜底", "特困供养", "资产收益", "光伏扶贫"],
    "缺资金": ["小额信贷", "产业扶持"],
    "缺土地": ["产业扶持", "资产收益", "就业帮扶"],
    "交通条件落后": ["造福工程搬迁", "产业扶持"],
    "自身发展动力不足": ["就业帮扶", "技能培训", "产业扶持"],
}
CAUSE_MEASURES = Param("cause_measures", DEFAULT_CAUSE_MEASURES, _("致贫原因对应的帮扶措施类型"))


@rule(
    code="R4-01",
    topic="no_measure",
    dimension=4,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("没有帮扶措施（帮扶空白）"),
    explanation=_(
        "脱贫不脱帮扶，每户都应逐户落实帮扶措施。该户没有任何帮扶措施记录。请帮扶责任人根据致贫原因制定措施，"
        "录入措施内容、项目、投入和责任人。"
    ),
)
def no_measure(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()}, '没有任何帮扶措施记录' AS detail
    FROM {HOUSEHOLD} h
    WHERE NOT EXISTS (SELECT 1 FROM {MEASURE} ms WHERE ms.household_id = h.id)"""


@rule(
    code="R4-02",
    topic="cause_unaddressed",
    dimension=4,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("帮扶措施与主要致贫原因不对应"),
    explanation=_(
        "措施要对症下药、因户施策。该户有主要致贫原因，但没有一项能应对该原因的措施（对应关系见参数，可按活动调整，"
        "如因病对应健康扶贫、缺资金对应小额信贷或产业扶持）。请针对致贫原因补充措施；确属致贫原因登记有误的，先更正原因。"
    ),
    params=(CAUSE_MEASURES,),
)
def cause_unaddressed(ctx: Ctx) -> str:
    mapping: dict[str, list[str]] = ctx.setting(CAUSE_MEASURES.name, DEFAULT_CAUSE_MEASURES) or {}
    pairs = [(cause, measure) for cause, measures in mapping.items() for measure in measures]
    if not pairs:
        return f"SELECT {ctx.household_subject()}, '' AS detail FROM {HOUSEHOLD} h WHERE 1 = 0"
    table = " UNION ALL ".join(
        f"SELECT {ctx.p(cause)} AS cause, {ctx.p(measure)} AS measure_type" for cause, measure in pairs
    )
    expected = " ".join(f"WHEN {ctx.p(cause)} THEN {ctx.p('、'.join(ms))}" for cause, ms in mapping.items() if ms)
    return f"""SELECT {ctx.household_subject()},
        '主要致贫原因为' || h.main_cause || '，没有对应措施（应有：' || (CASE h.main_cause {expected} END)
        || '）' AS detail
    FROM {HOUSEHOLD} h
    WHERE h.main_cause IN {ctx.plist(c for c, ms in mapping.items() if ms)}
      AND NOT EXISTS (SELECT 1 FROM {MEASURE} ms JOIN ({table}) cm ON cm.measure_type = ms.measure_type
          WHERE ms.household_id = h.id AND cm.cause = h.main_cause)"""


@rule(
    code="R4-03",
    topic="measure_incomplete",
    dimension=4,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("帮扶措施缺少责任人或投入资金"),
    explanation=_(
        "每项帮扶措施都应落实内容、投入和责任人。该户有措施没有填写责任人或投入资金（投入为0的应填0）。请补填。"
    ),
)
def measure_incomplete(ctx: Ctx) -> str:
    gaps = f"""(SELECT ms.household_id, COUNT(*) AS n, {ctx.agg("ms.measure_type", distinct=True)} AS kinds
        FROM {MEASURE} ms
        WHERE COALESCE(ms.responsible_person, '') = '' OR ms.amount IS NULL
        GROUP BY ms.household_id)"""
    return f"""SELECT {ctx.household_subject()},
        {ctx.text("g.n")} || ' 项措施缺少责任人或投入资金（' || g.kinds || '）' AS detail
    FROM {HOUSEHOLD} h JOIN {gaps} g ON g.household_id = h.id"""


@rule(
    code="R4-04",
    topic="handout_only",
    dimension=4,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("只有发钱发物式帮扶"),
    explanation=_(
        "方案要求减少简单发钱发物式帮扶，杜绝“保姆式”扶贫。该户所有帮扶措施都是生活救助。请结合家庭劳动力和致贫原因，"
        "增加产业、就业、技能培训等“造血”措施；确无劳动力的，落实兜底保障。"
    ),
)
def handout_only(ctx: Ctx) -> str:
    grouped = f"""(SELECT ms.household_id, COUNT(*) AS n,
            SUM(CASE WHEN ms.measure_type = '生活救助' THEN 1 ELSE 0 END) AS handouts
        FROM {MEASURE} ms GROUP BY ms.household_id)"""
    return f"""SELECT {ctx.household_subject()},
        '全部 ' || {ctx.text("g.n")} || ' 项措施均为生活救助' AS detail
    FROM {HOUSEHOLD} h JOIN {grouped} g ON g.household_id = h.id
    WHERE g.n = g.handouts"""


@rule(
    code="R4-05",
    topic="measure_stale",
    dimension=4,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("产业扶持措施早已结束且无后续措施"),
    explanation=_(
        "产业扶贫不能搞“短平快”、一劳永逸。该户的产业扶持措施在基准日前已结束超过设定天数，此后没有新的措施。"
        "请回访产业经营情况，根据市场变化调整或跟进措施（脱贫不脱项目）。"
    ),
    params=(
        Param("industry_measure_types", ["产业扶持"], _("视为产业扶持的措施类型")),
        Param("stale_days", 365, _("措施结束多少天后视为过期")),
    ),
    uses=(_("基准日期"),),
)
def measure_stale(ctx: Ctx) -> str:
    kinds = ctx.setting("industry_measure_types", ["产业扶持"])
    cutoff = ctx.p(ctx.ref - datetime.timedelta(days=int(ctx.setting("stale_days", 365))))
    industry = f"""(SELECT ms.household_id, MAX(ms.end_date) AS last_end,
            SUM(CASE WHEN ms.end_date IS NULL THEN 1 ELSE 0 END) AS ongoing
        FROM {MEASURE} ms WHERE ms.measure_type IN {ctx.plist(kinds)} GROUP BY ms.household_id)"""
    return f"""SELECT {ctx.household_subject()},
        '产业扶持措施已于 ' || {ctx.text("i.last_end")} || ' 结束，此后没有新的帮扶措施' AS detail
    FROM {HOUSEHOLD} h JOIN {industry} i ON i.household_id = h.id
    WHERE i.ongoing = 0 AND i.last_end < {cutoff}
      AND NOT EXISTS (SELECT 1 FROM {MEASURE} ms WHERE ms.household_id = h.id AND (
          ms.start_date > i.last_end OR (ms.end_date IS NULL AND COALESCE(ms.status, '') <> '已完成')))"""
