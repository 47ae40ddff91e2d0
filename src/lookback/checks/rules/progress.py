"""二(二) 推进度: key work progressing — income, the three guarantees, relocation, 低保/特困, employment,
micro-credit. Household and member checks against the registry and the departments' lists."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from lookback.checks.catalogue import Param, Severity, SubjectKind, rule
from lookback.checks.sql import DEPT, HOUSEHOLD, MEASURE, MEMBER, VISIT, Ctx

CLAUSE = "二(二)"
LINE = _("脱贫年度对应的贫困线（活动设置）")
REF = _("基准日期")
COMPULSORY_AGES = Param("compulsory_school_ages", [6, 15], _("义务教育年龄（周岁，含）"))
LABOUR_AGES = Param("labour_ages", [16, 59], _("劳动年龄（周岁，含）"))
RELOCATION_YEARS = Param("relocation_years", [2016, 2017], _("须全部入住的造福工程搬迁年度"))


def _hh_members(extra: str = "") -> str:
    return f"FROM {MEMBER} m JOIN {HOUSEHOLD} h ON h.id = m.household_id {extra}"


def _scan_members(extra: str = "") -> str:
    """Members first, then their household: SQLite keeps this order (CROSS JOIN), so conditions on the
    member are tested before the household is looked up. The query adds `h.id = m.household_id`."""
    return f"FROM {MEMBER} m CROSS JOIN {HOUSEHOLD} h {extra}"


@rule(
    code="R2-01",
    topic="income_below_line",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("已脱贫户人均纯收入低于脱贫年度贫困线"),
    explanation=_(
        "已脱贫户的家庭年人均纯收入应不低于其脱贫年度的贫困线。低于贫困线说明脱贫质量不达标或收入数据有误。"
        "请核实各项收入（工资性、生产经营性、财产性、转移性）并更正；确属收入不足的，调整帮扶措施，"
        "落实产业、就业或兜底保障，防止返贫。"
    ),
    uses=(LINE,),
)
def income_below_line(ctx: Ctx) -> str:
    line = ctx.poverty_line("h")
    return f"""SELECT {ctx.household_subject()},
        '人均纯收入 ' || {ctx.int_text("h.income_per_capita")} || ' 元，低于' || COALESCE({ctx.text("h.exit_year")}, '')
        || '年脱贫标准 ' || {ctx.int_text(line)} || ' 元' AS detail
    FROM {HOUSEHOLD} h
    WHERE {ctx.exited("h")} AND h.income_per_capita IS NOT NULL AND h.income_per_capita < {line}"""


@rule(
    code="R2-02",
    topic="return_risk",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.LOW,
    subject=SubjectKind.HOUSEHOLD,
    title=_("返贫或收入接近贫困线（返贫风险）"),
    explanation=_(
        "脱贫状态为“返贫”，或人均纯收入虽不低于贫困线、但高出不到设定比例的户，属于返贫风险户（方案四(二)"
        "“确保不返贫”）。请将其列入重点关注，核实收入来源是否稳定，及时调整帮扶措施。"
    ),
    params=(Param("return_risk_factor", 1.1, _("收入低于贫困线的倍数视为返贫风险")),),
    uses=(LINE,),
)
def return_risk(ctx: Ctx) -> str:
    line = ctx.poverty_line("h")
    factor = ctx.num(ctx.setting("return_risk_factor", 1.1))
    return f"""SELECT {ctx.household_subject()},
        CASE WHEN h.exit_status = '返贫' THEN '脱贫状态为返贫'
        ELSE '人均纯收入 ' || {ctx.int_text("h.income_per_capita")} || ' 元，仅略高于贫困线 '
            || {ctx.int_text(line)} || ' 元（不足 ' || {ctx.p(str(ctx.setting("return_risk_factor", 1.1)))}
            || ' 倍）' END AS detail
    FROM {HOUSEHOLD} h
    WHERE h.exit_status = '返贫' OR ({ctx.exited("h")} AND h.income_per_capita IS NOT NULL
        AND h.income_per_capita >= {line} AND h.income_per_capita < {line} * {factor})"""


def _insurance(ctx: Ctx, column: str, kind: str, what: str, exempt: str = "") -> str:
    listed = ctx.on_list(kind, "m.id_number", "COALESCE(dl.status, '') NOT IN ('未参保', '停保', '退保')")
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '未参加{what}' || CASE WHEN m.{column} IS NULL THEN '（未填写）' ELSE '' END AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND m.{column} IS NOT TRUE {exempt} AND NOT {listed}"""


@rule(
    code="R2-03",
    topic="medical_insurance",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.MEMBER,
    title=_("成员未参加基本医疗保险"),
    explanation=_(
        "贫困人口基本医疗保险参保率应达到100%。该成员既未登记参加城乡居民基本医疗保险，也未参加城镇职工基本医疗保险，"
        "且不在医保参保名单中。请核实参保情况：已参保的更正登记；未参保的协调医保部门代缴补缴；在外省参保的，"
        "取得参保证明后申请豁免。"
    ),
)
def medical_insurance(ctx: Ctx) -> str:
    return _insurance(ctx, "has_basic_medical", "medical", "基本医疗保险", "AND m.has_employee_medical IS NOT TRUE")


@rule(
    code="R2-04",
    topic="serious_illness_insurance",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("成员未参加大病保险"),
    explanation=_(
        "参加城乡居民基本医疗保险的贫困人口应同时享受大病保险。该成员未登记参加大病保险，且不在大病保险名单中。"
        "请核实并补办；参加城镇职工医保的成员不在此列。"
    ),
)
def serious_illness(ctx: Ctx) -> str:
    return _insurance(
        ctx, "has_serious_illness", "serious_illness", "大病保险", "AND m.has_employee_medical IS NOT TRUE"
    )


@rule(
    code="R2-05",
    topic="stacked_medical_insurance",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("成员未参加精准扶贫医疗叠加保险"),
    explanation=_(
        "福建省为建档立卡贫困人口统一购买精准扶贫医疗叠加保险。该成员未登记参加叠加保险，且不在叠加保险名单中。"
        "请与承保公司核对名单，漏保的及时补录。"
    ),
)
def stacked_medical(ctx: Ctx) -> str:
    return _insurance(ctx, "has_stacked_medical", "stacked_medical", "医疗叠加保险")


@rule(
    code="R2-06",
    topic="school_dropout",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.MEMBER,
    title=_("义务教育阶段适龄儿童未在校"),
    explanation=_(
        "按身份证出生日期计算，截至基准日处于义务教育年龄的成员，系统登记为非在校生（或未填写），且不在教育部门在校学生名单中。"
        "请入户核实：确属辍学的，落实控辍保学、劝返复学；因重度残疾送教上门的，登记在校生状况；登记错误的更正。"
    ),
    params=(COMPULSORY_AGES,),
    uses=(REF,),
)
def school_dropout(ctx: Ctx) -> str:
    low, high = ctx.setting(COMPULSORY_AGES.name, COMPULSORY_AGES.default)
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || ' ' || {ctx.text(ctx.age("m.id_number"))} || ' 岁，在校生状况为“'
        || COALESCE(NULLIF(m.school_status, ''), '未填写') || '”，不在在校学生名单中' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND {ctx.age_between("m.id_number", low, high)}
      AND NOT ({ctx.student("m")})
      AND NOT {ctx.on_list("students", "m.id_number")}"""


@rule(
    code="R2-07",
    topic="edu_subsidy",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("在校生没有教育资助发放记录"),
    explanation=_(
        "教育扶贫要求贫困户子女全覆盖、补助资金发放到位。该成员登记为在校生（含学前教育），但教育资助发放名单中没有其记录。"
        "请与教育部门核对：漏发的补发，已发放的补录名单。仅在导入教育资助发放名单后检查。"
    ),
    requires_lists=("edu_subsidy",),
)
def edu_subsidy(ctx: Ctx) -> str:
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '为' || m.school_status || '，教育资助发放名单中无记录' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND {ctx.student("m")}
      AND NOT {ctx.on_list("edu_subsidy", "m.id_number")}"""


@rule(
    code="R2-08",
    topic="dangerous_house",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("C级或D级危房未改造"),
    explanation=_(
        "住房安全有保障是脱贫标准之一。该户住房鉴定为C级或D级，系统登记或住建部门危房改造名单显示尚未完成改造。"
        "请核实改造进度：已改造的更新状态并附竣工材料；未改造的列入改造计划，落实过渡安置。"
    ),
)
def dangerous_house(ctx: Ctx) -> str:
    grades = ctx.plist(["C级", "D级", "C", "D"])
    listed = f"""(SELECT m2.household_id,
            MIN('住建名单：' || COALESCE(dl.category, '') || '，' || COALESCE(NULLIF(dl.status, ''), '未改造')) AS note
        FROM {DEPT} dl JOIN {MEMBER} m2 ON m2.id_number = dl.id_number
        WHERE dl.kind = {ctx.p("housing")} AND dl.category IN {grades}
          AND COALESCE(dl.status, '') NOT IN ('已改造', '已竣工', '竣工')
        GROUP BY m2.household_id)"""
    registry = f"(h.house_grade IN {ctx.plist(['C级', 'D级'])} AND COALESCE(h.renovation_status, '') <> '已改造')"
    return f"""SELECT {ctx.household_subject()},
        CASE WHEN {registry} THEN '住房安全等级 ' || h.house_grade || '，危房改造状态：'
            || COALESCE(NULLIF(h.renovation_status, ''), '未填写') ELSE '' END
        || CASE WHEN {registry} AND hl.note IS NOT NULL THEN '；' ELSE '' END || COALESCE(hl.note, '') AS detail
    FROM {HOUSEHOLD} h LEFT JOIN {listed} hl ON hl.household_id = h.id
    WHERE {registry} OR hl.note IS NOT NULL"""


@rule(
    code="R2-09",
    topic="relocation_not_moved_in",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("2016、2017年造福工程搬迁户未入住"),
    explanation=_(
        "方案要求2016年、2017年造福工程搬迁对象全部入住。该户为所列年度的搬迁户，系统登记或搬迁名单显示尚未入住。"
        "请核实原因，督促安置房交付和入住；已入住的更正登记。"
    ),
    params=(RELOCATION_YEARS,),
)
def relocation_not_moved_in(ctx: Ctx) -> str:
    years = ctx.setting(RELOCATION_YEARS.name, RELOCATION_YEARS.default)
    year_list = "(" + ", ".join(str(int(y)) for y in years) + ")" if years else "(NULL)"
    listed = f"""(SELECT m2.household_id,
            MIN('搬迁名单：' || COALESCE({ctx.text("dl.year")}, '') || '年搬迁，安置点'
                || COALESCE(NULLIF(dl.category, ''), '未填写') || '，未入住') AS note
        FROM {DEPT} dl JOIN {MEMBER} m2 ON m2.id_number = dl.id_number
        WHERE dl.kind = {ctx.p("relocation")} AND dl.year IN {year_list}
          AND COALESCE(dl.status, '') IN ('否', '未入住', '')
        GROUP BY m2.household_id)"""
    registry = f"(h.is_relocated IS TRUE AND h.relocation_year IN {year_list} AND h.moved_in IS NOT TRUE)"
    return f"""SELECT {ctx.household_subject()},
        CASE WHEN {registry} THEN {ctx.text("h.relocation_year")} || '年造福工程搬迁户，'
            || CASE WHEN h.moved_in IS NULL THEN '是否入住未填写' ELSE '未入住' END ELSE '' END
        || CASE WHEN {registry} AND hl.note IS NOT NULL THEN '；' ELSE '' END || COALESCE(hl.note, '') AS detail
    FROM {HOUSEHOLD} h LEFT JOIN {listed} hl ON hl.household_id = h.id
    WHERE {registry} OR hl.note IS NOT NULL"""


@rule(
    code="R2-10",
    topic="relocation_no_income",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("搬迁户无人务工且收入低"),
    explanation=_(
        "造福工程搬迁户应“搬得出、稳得住、能致富”，有相对稳定的经济收入。该户为搬迁户，没有成员务工（系统、就业名单、"
        "公益性岗位名单均无），人均纯收入低于贫困线的设定倍数。请落实就业帮扶、技能培训或产业扶持。"
    ),
    params=(Param("relocation_income_factor", 1.5, _("搬迁户人均纯收入低于贫困线的倍数")),),
    uses=(LINE,),
)
def relocation_no_income(ctx: Ctx) -> str:
    line = ctx.poverty_line("h")
    factor_value = ctx.setting("relocation_income_factor", 1.5)
    factor = ctx.num(factor_value)
    relocated = f"""(h.is_relocated IS TRUE OR EXISTS (SELECT 1 FROM {MEMBER} m2 JOIN {DEPT} dl
        ON dl.id_number = m2.id_number AND dl.kind = {ctx.p("relocation")} WHERE m2.household_id = h.id))"""
    listed = f"{ctx.on_list('employment', 'm.id_number')} OR {ctx.on_list('public_jobs', 'm.id_number')}"
    working = f"""EXISTS (SELECT 1 FROM {MEMBER} m WHERE m.household_id = h.id AND {ctx.active("m")} AND (
        {ctx.working("m")} OR {listed}))"""
    return f"""SELECT {ctx.household_subject()},
        '搬迁户无务工成员，人均纯收入 ' || {ctx.int_text("h.income_per_capita")} || ' 元，低于贫困线的 '
        || {ctx.p(str(factor_value))} || ' 倍（' || {ctx.int_text(f"{line} * {factor}")} || ' 元）' AS detail
    FROM {HOUSEHOLD} h
    WHERE {relocated} AND NOT {working}
      AND (h.income_per_capita IS NULL OR h.income_per_capita < {line} * {factor})"""


def _list_vs_flag(ctx: Ctx, kind: str, column: str, label: str, list_label: str) -> str:
    """Two selective halves instead of one outer join over every member: the flagged members that the
    list lacks, and the list's people whom the registry does not flag."""
    return f"""SELECT {ctx.member_subject()}, {ctx.member_name()} || '系统登记{label}，但不在{list_label}中' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND m.{column} IS TRUE
      AND NOT {ctx.on_list(kind, "m.id_number")}
    UNION ALL
    SELECT {ctx.member_subject()}, {ctx.member_name()} || '在{list_label}中，但系统未登记{label}' AS detail
    FROM {DEPT} dl JOIN {MEMBER} m ON m.id_number = dl.id_number JOIN {HOUSEHOLD} h ON h.id = m.household_id
    WHERE dl.kind = {ctx.p(kind)} AND {ctx.active("m")} AND m.{column} IS NOT TRUE"""


@rule(
    code="R2-11",
    topic="dibao_mismatch",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("低保名单与系统登记不一致"),
    explanation=_(
        "成员“是否享受低保”的登记应与民政部门低保名单一致。不一致有两种：系统登记享受低保但不在名单中（可能已退保或登记错误），"
        "或在名单中但系统未登记。请与民政部门核对后更正。仅在导入低保名单后检查。"
    ),
    requires_lists=("dibao",),
)
def dibao_mismatch(ctx: Ctx) -> str:
    return _list_vs_flag(ctx, "dibao", "is_dibao", "享受低保", "民政低保名单")


@rule(
    code="R2-12",
    topic="dibao_missing",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("符合条件未纳入低保（应纳未纳）"),
    explanation=_(
        "兜底保障要求将符合条件的贫困户全部纳入低保。该户无劳动力，或人均纯收入低于当地低保标准，但既不是低保户或特困供养户，"
        "也没有成员享受低保、特困供养或在民政低保名单中。请核实家庭经济状况，符合条件的协助申请低保。"
    ),
    params=(Param("dibao_standard", 7200, _("农村低保标准（元/人·年）")),),
)
def dibao_missing(ctx: Ctx) -> str:
    standard = ctx.num(ctx.setting("dibao_standard", 7200))
    capable = ctx.plist(["普通劳动力", "技能劳动力"])
    # Per household, in one pass over the members: how many can work, how many are flagged 低保/特困 or
    # on either list (the lists' numbers hashed once; joining them to every member hashed the members).
    listed = f"SELECT dl.id_number FROM {DEPT} dl WHERE dl.kind IN {ctx.plist(['dibao', 'tekun'])}"
    members = f"""(SELECT m.household_id,
            SUM(CASE WHEN m.labour_skill IN {capable} THEN 1 ELSE 0 END) AS capable,
            SUM(CASE WHEN m.is_dibao IS TRUE OR m.is_tekun IS TRUE OR m.id_number IN ({listed}) THEN 1 ELSE 0 END)
                AS flagged
        FROM {MEMBER} m WHERE {ctx.active("m")} GROUP BY m.household_id)"""
    no_labour = "COALESCE(ms.capable, 0) = 0"
    low = f"(h.income_per_capita IS NOT NULL AND h.income_per_capita < {standard})"
    return f"""SELECT {ctx.household_subject()},
        CASE WHEN {no_labour} THEN '家庭无劳动力' ELSE '' END
        || CASE WHEN {no_labour} AND {low} THEN '，' ELSE '' END
        || CASE WHEN {low} THEN '人均纯收入 ' || {ctx.int_text("h.income_per_capita")} || ' 元低于低保标准 '
            || {ctx.int_text(standard)} || ' 元' ELSE '' END
        || '，未纳入低保' AS detail
    FROM {HOUSEHOLD} h
    LEFT JOIN {members} ms ON ms.household_id = h.id
    WHERE ({no_labour} OR {low})
      AND h.attribute NOT LIKE {ctx.p("%低保%")} AND h.attribute NOT LIKE {ctx.p("%特困%")}
      AND COALESCE(ms.flagged, 0) = 0"""


@rule(
    code="R2-13",
    topic="tekun_mismatch",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("特困供养名单与系统登记不一致"),
    explanation=_(
        "成员“是否特困供养人员”的登记应与民政部门特困供养名单一致。请与民政部门核对：名单中有而系统未登记的补登，"
        "系统登记而名单中没有的核实是否已终止供养。仅在导入特困供养名单后检查。"
    ),
    requires_lists=("tekun",),
)
def tekun_mismatch(ctx: Ctx) -> str:
    return _list_vs_flag(ctx, "tekun", "is_tekun", "特困供养", "特困供养名单")


EMPLOYMENT_MEASURES = ("就业帮扶", "技能培训", "公益性岗位")


@rule(
    code="R2-14",
    topic="unemployed_no_help",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("有劳动能力的成员未就业且无就业帮扶"),
    explanation=_(
        "就业帮扶要跟踪落实，防止贫困户再次失业。该成员处于劳动年龄、身体健康、有劳动能力、不是在校生，"
        "但未登记务工、不在就业名单或公益性岗位名单中，家庭也没有就业帮扶、技能培训或公益性岗位措施。"
        "请了解就业意愿，推荐岗位或组织技能培训。"
    ),
    params=(LABOUR_AGES,),
    uses=(REF,),
)
def unemployed_no_help(ctx: Ctx) -> str:
    low, high = ctx.setting(LABOUR_AGES.name, LABOUR_AGES.default)
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || ' ' || {ctx.text(ctx.age("m.id_number"))} || ' 岁，' || m.labour_skill
        || '，未务工，家庭无就业帮扶、技能培训或公益性岗位措施' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND {ctx.age_between("m.id_number", low, high)}
      AND m.health = '健康'
      AND m.labour_skill IN {ctx.plist(["普通劳动力", "技能劳动力"])} AND NOT ({ctx.student("m")})
      AND NOT ({ctx.working("m")})
      AND NOT {ctx.on_list("employment", "m.id_number")} AND NOT {ctx.on_list("public_jobs", "m.id_number")}
      AND NOT EXISTS (SELECT 1 FROM {MEASURE} ms WHERE ms.household_id = m.household_id
          AND ms.measure_type IN {ctx.plist(EMPLOYMENT_MEASURES)})"""


@rule(
    code="R2-15",
    topic="public_job",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("公益性岗位由无劳动能力的人担任"),
    explanation=_(
        "公益性岗位应优先提供给有劳动能力的贫困户。该成员在公益性岗位名单中，但系统登记为丧失劳动力或无劳动力。"
        "请核实：确实不能上岗的，调整岗位人选（“挂名”领取岗位补贴属违规）；劳动能力登记错误的更正。"
        "仅在导入公益性岗位名单后检查。"
    ),
    requires_lists=("public_jobs",),
)
def public_job(ctx: Ctx) -> str:
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '劳动技能为' || m.labour_skill || '，但在公益性岗位名单中（'
        || COALESCE(NULLIF(dl.category, ''), '岗位未填写') || '）' AS detail
    {_hh_members(f"JOIN {DEPT} dl ON dl.kind = {ctx.p('public_jobs')} AND dl.id_number = m.id_number")}
    WHERE {ctx.active("m")} AND m.labour_skill IN {ctx.plist(["丧失劳动力", "无劳动力"])}"""


@rule(
    code="R2-16",
    topic="loan_unmet",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("缺资金或有贷款需求但未获小额信贷"),
    explanation=_(
        "扶贫小额信贷应对有贷款需求、发展产业的贫困户应贷尽贷。该户致贫原因为缺资金，或走访记录的群众需求提到贷款或资金，"
        "但没有小额信贷措施，成员也不在扶贫小额信贷名单中。请了解贷款意愿和发展项目，符合条件的协助申请。"
    ),
    params=(Param("loan_need_keywords", ["贷款", "信贷", "资金"], _("群众需求中表示贷款需求的词")),),
    uses=(REF,),
)
def loan_unmet(ctx: Ctx) -> str:
    words = ctx.setting("loan_need_keywords", ["贷款", "信贷", "资金"]) or []
    cutoff = ctx.ref_end()
    need = " OR ".join(f"v.needs LIKE {ctx.p('%' + str(w) + '%')}" for w in words) or "1 = 0"
    demand = f"EXISTS (SELECT 1 FROM {VISIT} v WHERE v.household_id = h.id AND v.visited_at < {cutoff} AND ({need}))"
    cause = f"(h.main_cause = '缺资金' OR {ctx.json_has_value('h.other_causes', '缺资金')})"
    return f"""SELECT {ctx.household_subject()},
        CASE WHEN {cause} THEN '致贫原因含缺资金' ELSE '走访记录有贷款需求' END
        || '，无小额信贷措施，成员不在扶贫小额信贷名单中' AS detail
    FROM {HOUSEHOLD} h
    WHERE ({cause} OR {demand})
      AND NOT EXISTS (SELECT 1 FROM {MEASURE} ms WHERE ms.household_id = h.id AND ms.measure_type = '小额信贷')
      AND NOT EXISTS (SELECT 1 FROM {MEMBER} m JOIN {DEPT} dl ON dl.kind = {ctx.p("loans")}
          AND dl.id_number = m.id_number WHERE m.household_id = h.id)"""


@rule(
    code="R2-17",
    topic="loan_overdue",
    dimension=2,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.MEMBER,
    title=_("扶贫小额信贷逾期"),
    explanation=_(
        "小额信贷要有风险防范机制，确保资金安全。截至基准日，该成员的贷款在银行名单中为逾期，或已过到期日仍未结清。"
        "请了解还款困难原因，协调续贷、展期或风险补偿，防止形成不良。仅在导入扶贫小额信贷名单后检查。"
    ),
    requires_lists=("loans",),
    uses=(REF,),
)
def loan_overdue(ctx: Ctx) -> str:
    ref = ctx.p(ctx.ref)
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '贷款 ' || {ctx.int_text("dl.amount")} || ' 元，到期日 '
        || COALESCE({ctx.text("dl.end_date")}, '未填写') || '，状态：' || COALESCE(NULLIF(dl.status, ''), '未填写')
        AS detail
    {_hh_members(f"JOIN {DEPT} dl ON dl.kind = {ctx.p('loans')} AND dl.id_number = m.id_number")}
    WHERE dl.status = '逾期' OR (dl.end_date < {ref} AND COALESCE(dl.status, '') <> '已结清')"""
