"""二(三) 准确度: household data complete, consistent, and equal to the national system and the
departments' lists; the two handbooks filled."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from lookback.checks.catalogue import Param, Severity, SubjectKind, rule
from lookback.checks.idcheck import CHECK_CHARS, WEIGHTS
from lookback.checks.models import IdRegion
from lookback.checks.sql import (
    DEPT,
    HOUSEHOLD,
    MEMBER,
    NATIONAL_HOUSEHOLD,
    NATIONAL_MEMBER,
    NULL_ID,
    VISIT,
    Ctx,
)
from lookback.core import codes
from lookback.registry.models import ARCHIVE_ITEMS_DEFAULT, ArchiveCheck
from lookback.registry.selectors import required_archive_items

CLAUSE = "二(三)"
REF = _("基准日期")
SNAPSHOT = _("最新一期国扶系统快照")
REGION = IdRegion._meta.db_table


def _members(extra: str = "") -> str:
    return f"FROM {MEMBER} m JOIN {HOUSEHOLD} h ON h.id = m.household_id {extra}"


def _scan_members(extra: str = "") -> str:
    """Members first, then their household: SQLite keeps this order (CROSS JOIN), so conditions on the
    member are tested before the household is looked up. The query adds `h.id = m.household_id`."""
    return f"FROM {MEMBER} m CROSS JOIN {HOUSEHOLD} h {extra}"


def id_problem(ctx: Ctx, col: str, region_known: str | None = None, col_bytes: str | None = None) -> str:
    """Why an ID number fails python-stdnum's checks (see idcheck.py), or NULL when it passes or is an
    old 15-digit number (a rule of its own). `region_known` is a condition from a join with the
    region table; without it the region is looked up per number. `col_bytes` (PostgreSQL) is the
    number as bytes (`convert_to`), from which the weighted sum reads its digits with `get_byte`:
    the same sum at half the cost of 17 SUBSTR and CAST per number."""
    number = f"UPPER({col})"
    if col_bytes:
        # Only reached when the first 17 characters are ASCII digits (see the CASE below).
        total = " + ".join(f"(GET_BYTE({col_bytes}, {i}) - 48) * {w}" for i, w in enumerate(WEIGHTS))
    else:
        total = " + ".join(f"CAST(SUBSTR({col}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS))
    expected = f"SUBSTR('{CHECK_CHARS}', {ctx.mod(total, 11)} + 1, 1)"
    # The date is checked on its digits as text (they are all digits by then): fewer casts per row.
    mo, d = f"SUBSTR({col}, 11, 2)", f"SUBSTR({col}, 13, 2)"
    y = f"CAST(SUBSTR({col}, 7, 4) AS INTEGER)"
    leap = f"({ctx.mod(y, 4)} = 0 AND {ctx.mod(y, 100)} <> 0 OR {ctx.mod(y, 400)} = 0)"
    last_day = (
        f"(CASE {mo} WHEN '02' THEN (CASE WHEN {leap} THEN '29' ELSE '28' END) "
        f"WHEN '04' THEN '30' WHEN '06' THEN '30' WHEN '09' THEN '30' WHEN '11' THEN '30' ELSE '31' END)"
    )
    return f"""(CASE
        WHEN COALESCE({col}, '') = '' THEN '证件号码为空'
        WHEN LENGTH({col}) = 15 AND {ctx.digits(col)} THEN NULL
        WHEN LENGTH({col}) <> 18 THEN '证件号码长度为 ' || {ctx.text(f"LENGTH({col})")} || ' 位'
        WHEN NOT {ctx.digits(f"SUBSTR({col}, 1, 17)")} THEN '证件号码前17位含非数字字符'
        WHEN SUBSTR({number}, 18, 1) <> {expected} THEN '证件号码校验码错误（应为 ' || {expected} || '）'
        WHEN SUBSTR({col}, 7, 4) = '0000' OR {mo} NOT BETWEEN '01' AND '12' OR {d} NOT BETWEEN '01' AND {last_day}
            THEN '证件号码中的出生日期无效'
        WHEN NOT {region_known or f"EXISTS (SELECT 1 FROM {REGION} r WHERE r.code = SUBSTR({col}, 1, 6))"}
            THEN '证件号码地区码无效'
        END)"""


@rule(
    code="R3-01",
    topic="id_invalid",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.MEMBER,
    title=_("证件号码无效"),
    explanation=_(
        "成员证件号码应为有效的18位居民身份证号码：前17位为数字，校验码正确，出生日期真实存在，地区码有效"
        "（与 python-stdnum 的校验一致）。无效号码会导致与各部门名单比对失败。请对照户口簿或身份证更正。"
    ),
)
def id_invalid(ctx: Ctx) -> str:
    if ctx.vendor == "postgresql":
        # The members with their number as bytes, computed once per member (OFFSET 0 keeps the planner
        # from writing `convert_to` back into each of the 17 places that read it).
        # The problem is judged once per member and the detail text built only for the few that have
        # one (OFFSET 0 again: otherwise the text was concatenated for every member to test it for NULL).
        problem = id_problem(ctx, "m.id_number", "(r.code IS NOT NULL)", "m.id_bytes")
        return f"""SELECT subject_key, household_id, member_id, household_no, division_code,
            {ctx.member_name("x")} || '：' || x.problem AS detail FROM (
            SELECT {ctx.member_subject()}, m.name, m.relation, {problem} AS problem
            FROM (SELECT id, household_id, name, relation, id_number, CONVERT_TO(id_number, 'UTF8') AS id_bytes
                FROM {MEMBER} OFFSET 0) m
            JOIN {HOUSEHOLD} h ON h.id = m.household_id
            LEFT JOIN {REGION} r ON r.code = SUBSTR(m.id_number, 1, 6) OFFSET 0) x
        WHERE x.problem IS NOT NULL"""
    return f"""SELECT subject_key, household_id, member_id, household_no, division_code, detail FROM (
        SELECT {ctx.member_subject()},
            {ctx.member_name()} || '：' || {id_problem(ctx, "m.id_number", "(r.code IS NOT NULL)")} AS detail
        {_scan_members(f"LEFT JOIN {REGION} r ON r.code = SUBSTR(m.id_number, 1, 6)")}
        WHERE h.id = m.household_id) x
    WHERE x.detail IS NOT NULL"""


@rule(
    code="R3-02",
    topic="id_old_format",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("使用15位旧身份证号码"),
    explanation=_("15位身份证号码已停止使用，国扶系统和各部门名单均按18位号码比对。请按户口簿更新为18位号码。"),
)
def id_old_format(ctx: Ctx) -> str:
    return f"""SELECT {ctx.member_subject()}, {ctx.member_name()} || '的证件号码为15位旧号码' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND (LENGTH(m.id_number) = 15 AND {ctx.digits("m.id_number")})"""


@rule(
    code="R3-03",
    topic="id_duplicate",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.MEMBER,
    title=_("证件号码重复"),
    explanation=_(
        "同一证件号码在系统中出现在多名在册成员上（同一户内或不同户之间），通常是重复录入、户籍迁移未注销或号码录错。"
        "请核实此人实际所在的户，删除重复记录或更正号码。"
    ),
)
def id_duplicate(ctx: Ctx) -> str:
    # Numbers seen more than once at all come from the id_number index alone; only their rows are read.
    candidates = f"""(SELECT id_number FROM {MEMBER} WHERE id_number <> '' GROUP BY id_number HAVING COUNT(*) > 1)"""
    # PostgreSQL guesses a third of all numbers pass HAVING and sorted every member to merge-join them
    # (3 s at 300,000 households, for none). As an array computed once, the few numbers are looked up
    # in the id_number index instead.
    wanted = f"= ANY(ARRAY{candidates})" if ctx.vendor == "postgresql" else f"IN {candidates}"
    dup = f"""(SELECT m2.id_number, COUNT(*) AS n, {ctx.agg("h2.household_no", distinct=True)} AS households
        FROM {MEMBER} m2 JOIN {HOUSEHOLD} h2 ON h2.id = m2.household_id
        WHERE m2.id_number {wanted} AND {ctx.active("m2")}
        GROUP BY m2.id_number HAVING COUNT(*) > 1)"""
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '的证件号码在 ' || {ctx.text("d.n")} || ' 名成员中出现（户编号 ' || d.households || '）'
        AS detail
    {_members(f"JOIN {dup} d ON d.id_number = m.id_number")}
    WHERE {ctx.active("m")}"""


@rule(
    code="R3-04",
    topic="required_missing",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("成员必填项未填写"),
    explanation=_(
        "成员信息应完整：非在校生须填文化程度，6至23周岁须填在校生状况，所有人须填健康状况，16至65周岁须填劳动技能。"
        "请入户核实后补填。"
    ),
    params=(
        Param("school_status_ages", [6, 23], _("须填在校生状况的年龄（周岁，含）")),
        Param("skill_required_ages", [16, 65], _("须填劳动技能的年龄（周岁，含）")),
    ),
    uses=(REF,),
)
def member_required_missing(ctx: Ctx) -> str:
    s_low, s_high = ctx.setting("school_status_ages", [6, 23])
    k_low, k_high = ctx.setting("skill_required_ages", [16, 65])
    parts = [
        (f"COALESCE(m.education, '') = '' AND NOT ({ctx.student('m')})", "文化程度"),
        (f"COALESCE(m.school_status, '') = '' AND {ctx.age_between('m.id_number', s_low, s_high)}", "在校生状况"),
        ("COALESCE(m.health, '') = ''", "健康状况"),
        (f"COALESCE(m.labour_skill, '') = '' AND {ctx.age_between('m.id_number', k_low, k_high)}", "劳动技能"),
    ]
    missing = " || ".join(f"CASE WHEN {cond} THEN '{label}、' ELSE '' END" for cond, label in parts)
    return f"""SELECT subject_key, household_id, member_id, household_no, division_code,
        name || '未填写：' || RTRIM(missing, '、') AS detail
    FROM (SELECT {ctx.member_subject()}, {ctx.member_name()} AS name, {missing} AS missing
        {_scan_members()} WHERE h.id = m.household_id AND {ctx.active("m")}) x
    WHERE x.missing <> ''"""


@rule(
    code="R3-05",
    topic="required_missing",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("户必填项未填写"),
    explanation=_("户信息中的主要致贫原因和家庭年人均纯收入是精准施策和脱贫评估的基础，必须填写。请核实后补填。"),
)
def household_required_missing(ctx: Ctx) -> str:
    missing = (
        "CASE WHEN COALESCE(h.main_cause, '') = '' THEN '主要致贫原因、' ELSE '' END"
        " || CASE WHEN h.income_per_capita IS NULL THEN '人均纯收入、' ELSE '' END"
    )
    return f"""SELECT subject_key, household_id, member_id, household_no, division_code,
        '户信息未填写：' || RTRIM(missing, '、') AS detail
    FROM (SELECT {ctx.household_subject()}, {missing} AS missing FROM {HOUSEHOLD} h) x
    WHERE x.missing <> ''"""


MEMBER_CODES = (
    ("sex", "性别", codes.SEX),
    ("relation", "与户主关系", codes.RELATION),
    ("education", "文化程度", codes.EDUCATION),
    ("school_status", "在校生状况", codes.SCHOOL_STATUS),
    ("labour_skill", "劳动技能", codes.LABOUR_SKILL),
    ("work_status", "务工状况", codes.WORK_STATUS),
)
HOUSEHOLD_CODES = (
    ("attribute", "贫困户属性", codes.HOUSEHOLD_ATTRIBUTE),
    ("exit_status", "脱贫状态", codes.EXIT_STATUS),
    ("main_cause", "主要致贫原因", codes.POVERTY_CAUSE),
    ("house_grade", "住房安全等级", codes.HOUSE_GRADE),
    ("renovation_status", "危房改造状态", codes.RENOVATION_STATUS),
)


@rule(
    code="R3-06",
    topic="code_invalid",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("代码项取值不在国扶系统代码表中"),
    explanation=_(
        "贫困户属性、脱贫状态、致贫原因、与户主关系、文化程度、在校生状况、劳动技能、务工状况等代码项，应取国扶系统代码表中的值，"
        "否则无法与国扶系统对接。导入时会规范取值，此规则发现通过其他途径录入的非法值。请改为代码表中的值。"
    ),
)
def code_invalid(ctx: Ctx) -> str:
    def bad(column: str, label: str, code_list) -> tuple[str, str]:
        return (f"COALESCE({column}, '') <> '' AND {column} NOT IN {ctx.plist(code_list.labels)}", label)

    household_parts = [bad(f"h.{c}", label, cl) for c, label, cl in HOUSEHOLD_CODES]
    member_parts = [bad(f"m.{c}", label, cl) for c, label, cl in MEMBER_CODES]
    household_text = " || ".join(f"CASE WHEN {c} THEN '户{label}、' ELSE '' END" for c, label in household_parts)
    member_any = " OR ".join(f"({c})" for c, _label in member_parts)
    member_text = " || ".join(f"CASE WHEN {c} THEN '{label}、' ELSE '' END" for c, label in member_parts)
    members = f"""(SELECT m.household_id, MIN(m.name || '的' || RTRIM({member_text}, '、')) AS note
        FROM {MEMBER} m WHERE {member_any} GROUP BY m.household_id)"""
    return f"""SELECT subject_key, household_id, member_id, household_no, division_code,
        '取值不在代码表中：' || RTRIM(own || COALESCE(note, ''), '、') AS detail
    FROM (SELECT {ctx.household_subject()}, {household_text} AS own, bm.note AS note
        FROM {HOUSEHOLD} h LEFT JOIN {members} bm ON bm.household_id = h.id) x
    WHERE x.own <> '' OR x.note IS NOT NULL"""


MALE_RELATIONS = (
    "之子",
    "之女婿",
    "之孙子",
    "之外孙子",
    "之父",
    "之岳父",
    "之公公",
    "之祖父",
    "之外祖父",
    "之曾孙子",
    "之侄儿",
    "之叔伯",
)
FEMALE_RELATIONS = (
    "之女",
    "之儿媳",
    "之孙女",
    "之外孙女",
    "之母",
    "之岳母",
    "之婆婆",
    "之祖母",
    "之外祖母",
    "之曾孙女",
    "之侄女",
    "之兄弟媳妇",
)


@rule(
    code="R3-07",
    topic="relation_invalid",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("与户主关系和性别矛盾"),
    explanation=_(
        "与户主关系隐含性别（如“之子”为男性、“之女”“之儿媳”为女性），与登记的性别矛盾说明关系或性别录错。"
        "请对照户口簿更正。"
    ),
)
def relation_sex(ctx: Ctx) -> str:
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '性别登记为' || m.sex || '，与“' || m.relation || '”矛盾' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND ((m.relation IN {ctx.plist(MALE_RELATIONS)} AND m.sex = '女')
       OR (m.relation IN {ctx.plist(FEMALE_RELATIONS)} AND m.sex = '男'))"""


@rule(
    code="R3-08",
    topic="relation_invalid",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("户主与配偶性别相同"),
    explanation=_("户主与“配偶”登记为同一性别，通常是性别或关系录错。请对照户口簿更正。"),
)
def head_spouse_same_sex(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()},
        '户主' || hd.name || '与配偶' || sp.name || '性别同为' || hd.sex AS detail
    FROM {HOUSEHOLD} h
    JOIN {MEMBER} hd ON hd.household_id = h.id AND hd.relation = '户主' AND {ctx.active("hd")}
    JOIN {MEMBER} sp ON sp.household_id = h.id AND sp.relation = '配偶' AND {ctx.active("sp")}
    WHERE hd.sex = sp.sex AND COALESCE(hd.sex, '') <> ''"""


def _composition(ctx: Ctx) -> str:
    return f"""(SELECT m.household_id, COUNT(*) AS n,
            SUM(CASE WHEN m.relation = '户主' THEN 1 ELSE 0 END) AS heads
        FROM {MEMBER} m WHERE {ctx.active("m")} GROUP BY m.household_id)"""


@rule(
    code="R3-09",
    topic="head_missing",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("户内没有户主"),
    explanation=_(
        "每户应有且只有一名在册成员的与户主关系为“户主”。没有户主通常是户主死亡或迁出后未变更。"
        "请按户口簿变更户主，并同步国扶系统。"
    ),
)
def head_missing(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()}, '户内在册成员中没有户主（登记户主：' || h.head_name || '）' AS detail
    FROM {HOUSEHOLD} h LEFT JOIN {_composition(ctx)} c ON c.household_id = h.id
    WHERE COALESCE(c.heads, 0) = 0"""


@rule(
    code="R3-10",
    topic="head_multiple",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("户内有多名户主"),
    explanation=_("一户只能有一名户主。请核实户籍，将其他成员的关系更正为实际关系；确属两户的应分户。"),
)
def head_multiple(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()}, '户内有 ' || {ctx.text("c.heads")} || ' 名户主' AS detail
    FROM {HOUSEHOLD} h JOIN {_composition(ctx)} c ON c.household_id = h.id
    WHERE c.heads > 1"""


@rule(
    code="R3-11",
    topic="member_count_mismatch",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("家庭人口数与在册成员数不一致"),
    explanation=_(
        "户信息的家庭人口数应等于人员状态为“正常”的成员数。不一致通常是成员死亡、嫁出、新生儿等变动后只改了一处。"
        "请核实家庭成员变动，同时更正人口数和成员信息。"
    ),
)
def member_count_mismatch(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()},
        '家庭人口数为 ' || {ctx.text("h.size")} || '，在册成员 ' || {ctx.text("COALESCE(c.n, 0)")} || ' 人' AS detail
    FROM {HOUSEHOLD} h LEFT JOIN {_composition(ctx)} c ON c.household_id = h.id
    WHERE h.size <> COALESCE(c.n, 0)"""


@rule(
    code="R3-12",
    topic="age_school_mismatch",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.LOW,
    subject=SubjectKind.MEMBER,
    title=_("年龄与在校年级不符"),
    explanation=_(
        "按身份证出生日期计算的年龄与登记的在校年级明显不符（如14周岁及以下读高中、20周岁及以上读小学），"
        "通常是在校生状况未随升学更新或出生日期有误。请核实后更正。"
    ),
    params=(
        Param("senior_max_age", 14, _("读高中/中职的年龄下限以下（周岁，含）视为不符")),
        Param("primary_min_age", 20, _("读小学的年龄上限以上（周岁，含）视为不符")),
    ),
    uses=(REF,),
)
def age_school_mismatch(ctx: Ctx) -> str:
    senior = int(ctx.setting("senior_max_age", 14))
    primary = int(ctx.setting("primary_min_age", 20))
    age = ctx.age("m.id_number")
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || ' ' || {ctx.text(age)} || ' 岁，在校生状况为' || m.school_status AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND ({ctx.active("m")} AND (
        (m.school_status IN {ctx.plist(codes.SENIOR_GRADES)} AND {age} <= {senior})
        OR (m.school_status IN {ctx.plist(codes.PRIMARY_GRADES)} AND {age} >= {primary})))"""


@rule(
    code="R3-13",
    topic="deceased_listed",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.MEMBER,
    title=_("已死亡人员仍在册"),
    explanation=_(
        "该成员在公安/民政死亡人员名单中，但系统人员状态仍为“正常”。请核实后将人员状态改为死亡，"
        "同步调整家庭人口数、低保等待遇，防止冒领。仅在导入死亡人员名单后检查。"
    ),
    requires_lists=("deaths",),
)
def deceased_listed(ctx: Ctx) -> str:
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '在死亡人员名单中（死亡日期 ' || COALESCE({ctx.text("dl.start_date")}, '未填写')
        || '），人员状态仍为正常' AS detail
    {_members(f"JOIN {DEPT} dl ON dl.kind = {ctx.p('deaths')} AND dl.id_number = m.id_number")}
    WHERE {ctx.active("m")}"""


# The registry fields the import sheets carry, compared with the snapshot (whichever of them it has).
HOUSEHOLD_TEXT_FIELDS = (
    ("head_name", "户主姓名"),
    ("head_id_number", "户主证件号码"),
    ("attribute", "贫困户属性"),
    ("exit_status", "脱贫状态"),
    ("identification_standard", "识别标准"),
    ("main_cause", "主要致贫原因"),
    ("house_grade", "住房安全等级"),
    ("renovation_status", "危房改造状态"),
    ("phone", "联系电话"),
)
# (field, label, smallest difference that counts): money to the yuan, other numbers exactly.
HOUSEHOLD_NUMBER_FIELDS = (
    ("size", "家庭人口数", 0.5),
    ("exit_year", "脱贫年度", 0.5),
    ("identification_year", "识别年度", 0.5),
    ("income_per_capita", "人均纯收入", 0.5),
    ("wage_income", "工资性收入", 0.5),
    ("business_income", "生产经营性收入", 0.5),
    ("property_income", "财产性收入", 0.5),
    ("transfer_income", "转移性收入", 0.5),
    ("business_costs", "生产经营性支出", 0.5),
    ("house_area", "住房面积", 0.05),
    ("relocation_year", "搬迁年度", 0.5),
)
HOUSEHOLD_BOOL_FIELDS = (
    ("is_relocated", "造福工程搬迁户"),
    ("moved_in", "已入住"),
    ("safe_water", "饮水安全"),
    ("has_electricity", "通生活用电"),
    ("has_sanitary_toilet", "卫生厕所"),
)
MEMBER_TEXT_FIELDS = (
    ("name", "姓名"),
    ("sex", "性别"),
    ("relation", "与户主关系"),
    ("ethnicity", "民族"),
    ("political_status", "政治面貌"),
    ("education", "文化程度"),
    ("school_status", "在校生状况"),
    ("health", "健康状况"),
    ("disability_type", "残疾类别"),
    ("labour_skill", "劳动技能"),
    ("work_status", "务工状况"),
    ("status", "人员状态"),
    ("phone", "联系电话"),
)
MEMBER_NUMBER_FIELDS = (("work_months", "务工时间（月）", 0.05),)
MEMBER_BOOL_FIELDS = (
    ("has_basic_medical", "基本医疗保险"),
    ("has_serious_illness", "大病保险"),
    ("has_stacked_medical", "医疗叠加保险"),
    ("has_employee_medical", "城镇职工基本医疗保险"),
    ("is_dibao", "享受低保"),
    ("is_tekun", "特困供养"),
    ("has_pension", "城乡居民基本养老保险"),
)


def _bool_text(value: str) -> str:
    """A snapshot's yes/no spelled 'true' / 'false' / ''."""
    return (
        f"(CASE WHEN {value} IN ('true', '是', '1', 'True') THEN 'true' "
        f"WHEN {value} IN ('false', '否', '0', 'False') THEN 'false' ELSE '' END)"
    )


def _yes_no(expr: str) -> str:
    return f"(CASE {expr} WHEN 'true' THEN '是' WHEN 'false' THEN '否' ELSE '空' END)"


def _differences(ctx: Ctx, alias: str, pair: str, text_fields=(), number_fields=(), bool_fields=()) -> tuple[str, str]:
    """For a row `pair` of `ctx.json_members` (one field of the snapshot) against the registry row
    `alias`: the condition "this field differs" and the text describing the difference. A field the
    export did not have is not a member of the object, so it is never compared."""
    theirs = ctx.json_member_text(pair)
    differs, texts = [], []
    for field, label in text_fields:
        ours = f"COALESCE({alias}.{field}, '')"
        differs.append(f"WHEN '{field}' THEN {ours} <> {theirs}")
        texts.append(f"WHEN '{field}' THEN '{label}：本系统“' || {ours} || '”，国扶“' || {theirs} || '”'")
    for field, label, step in number_fields:
        ours, number = f"{alias}.{field}", ctx.text_number(theirs)
        differs.append(
            f"WHEN '{field}' THEN (({ours} IS NULL) <> ({number} IS NULL) OR ABS({ours} - {number}) >= {step})"
        )
        show = ctx.int_text if step >= 0.5 else ctx.decimal_text
        texts.append(
            f"WHEN '{field}' THEN '{label}：本系统 ' || {show(ours, '空')} || '，国扶 ' || {show(number, '空')}"
        )
    for field, label in bool_fields:
        ours, flag = ctx.bool_text(f"{alias}.{field}"), _bool_text(theirs)
        differs.append(f"WHEN '{field}' THEN {ours} <> {flag}")
        texts.append(
            f"WHEN '{field}' THEN '{label}：本系统“' || {_yes_no(ours)} || '”，国扶“' || {_yes_no(flag)} || '”'"
        )
    keys = [f[0] for f in (*text_fields, *number_fields, *bool_fields)]
    condition = f"{pair}.key IN {ctx.plist(keys)} AND (CASE {pair}.key {' '.join(differs)} ELSE FALSE END)"
    return condition, f"(CASE {pair}.key {' '.join(texts)} END)"


def _row_differences(
    ctx: Ctx, alias: str, data: str, text_fields=(), number_fields=(), bool_fields=()
) -> tuple[str, str]:
    """The same comparison as `_differences`, field by field on one row: the condition "some field
    differs" and the text of every differing field, each ending in '；'. PostgreSQL reads a jsonb member
    cheaply, so there each field is read directly instead of turning the object into rows. The text is
    only built for the rows the condition lets through: concatenating twenty empty pieces for each of a
    million agreeing members cost more than the comparisons themselves."""
    conditions, pieces = [], []

    for field, label in text_fields:
        ours, theirs = f"COALESCE({alias}.{field}, '')", ctx.json_text(data, field)
        conditions.append(f"({ctx.json_has_key(data, field)} AND {ours} <> {theirs})")
        pieces.append(f"'{label}：本系统“' || {ours} || '”，国扶“' || {theirs} || '”；'")
    for field, label, step in number_fields:
        ours, number = f"{alias}.{field}", ctx.text_number(ctx.json_text(data, field))
        show = ctx.int_text if step >= 0.5 else ctx.decimal_text
        conditions.append(
            f"({ctx.json_has_key(data, field)} AND (({ours} IS NULL) <> ({number} IS NULL) "
            f"OR ABS({ours} - {number}) >= {step}))"
        )
        pieces.append(f"'{label}：本系统 ' || {show(ours, '空')} || '，国扶 ' || {show(number, '空')} || '；'")
    for field, label in bool_fields:
        ours, flag = ctx.bool_text(f"{alias}.{field}"), _bool_text(ctx.json_text(data, field))
        conditions.append(f"({ctx.json_has_key(data, field)} AND {ours} <> {flag})")
        pieces.append(f"'{label}：本系统“' || {_yes_no(ours)} || '”，国扶“' || {_yes_no(flag)} || '”；'")
    changed = " OR ".join(conditions)
    text = " || ".join(f"CASE WHEN {c} THEN {p} ELSE '' END" for c, p in zip(conditions, pieces, strict=True))
    return changed, text


@rule(
    code="R3-14",
    topic="national_mismatch",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("户信息与国扶系统不一致"),
    explanation=_(
        "贫困户信息应与国扶系统一致。此规则按户编号逐项比对最新一期国扶系统快照中有的每个字段（所在村、户主、人口数、属性、"
        "脱贫状态与年度、致贫原因、各项收入、住房、搬迁、联系电话等），列出每个不一致的字段。"
        "请核实哪一方正确，更正本系统或在国扶系统中修改。"
    ),
    requires_snapshot=True,
    uses=(SNAPSHOT,),
)
def national_household_mismatch(ctx: Ctx) -> str:
    snapshot = int(ctx.snapshot_id or 0)
    if ctx.vendor == "postgresql":
        fields = (HOUSEHOLD_TEXT_FIELDS, HOUSEHOLD_NUMBER_FIELDS, HOUSEHOLD_BOOL_FIELDS)
        moved = "(COALESCE(nh.division_code, '') <> '' AND nh.division_code <> h.division_code)"
        place = (
            f"CASE WHEN {moved} THEN '所在村：本系统 ' || h.division_code || '，国扶 ' || nh.division_code || '；' "
            "ELSE '' END"
        )
        changed, text = _row_differences(ctx, "h", "nh.data", *fields)
        return f"""SELECT {ctx.household_subject()},
            '与国扶系统不一致：' || RTRIM({place} || {text}, '；') AS detail
        FROM {HOUSEHOLD} h JOIN {NATIONAL_HOUSEHOLD} nh
            ON nh.snapshot_id = {snapshot} AND nh.household_no = h.household_no
        WHERE {moved} OR {changed}"""
    condition, text = _differences(ctx, "h", "j", HOUSEHOLD_TEXT_FIELDS, HOUSEHOLD_NUMBER_FIELDS, HOUSEHOLD_BOOL_FIELDS)
    same = f"nh.snapshot_id = {snapshot} AND nh.household_no = h.household_no"
    pairs = f"{HOUSEHOLD} h JOIN {NATIONAL_HOUSEHOLD} nh ON {same}"
    return f"""SELECT {ctx.household_subject()}, '与国扶系统不一致：' || d.diffs AS detail
    FROM (SELECT hid, {ctx.agg("diff", sep="；")} AS diffs FROM (
            SELECT h.id AS hid, '所在村：本系统 ' || h.division_code || '，国扶 ' || nh.division_code AS diff
            FROM {pairs}
            WHERE COALESCE(nh.division_code, '') <> '' AND nh.division_code <> h.division_code
            UNION ALL
            SELECT h.id AS hid, {text} AS diff
            FROM {pairs} CROSS JOIN {ctx.json_members("nh.data", "j")}
            WHERE {condition}
        ) one GROUP BY hid) d
    JOIN {HOUSEHOLD} h ON h.id = d.hid"""


@rule(
    code="R3-15",
    topic="national_mismatch",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("成员信息与国扶系统不一致"),
    explanation=_(
        "家庭成员信息应与国扶系统一致。此规则按人编号（无人编号时按户编号和证件号码）逐项比对最新一期国扶系统快照，"
        "列出每个不一致的字段。请核实后更正。"
    ),
    requires_snapshot=True,
    uses=(SNAPSHOT,),
)
def national_member_mismatch(ctx: Ctx) -> str:
    snapshot = int(ctx.snapshot_id or 0)
    if ctx.vendor == "postgresql":
        with_id = ((*MEMBER_TEXT_FIELDS, ("id_number", "证件号码")), MEMBER_NUMBER_FIELDS, MEMBER_BOOL_FIELDS)
        without_id = (MEMBER_TEXT_FIELDS, MEMBER_NUMBER_FIELDS, MEMBER_BOOL_FIELDS)
        subject = ctx.member_subject()
        by_no, by_no_text = _row_differences(ctx, "m", "nm.data", *with_id)
        by_id, by_id_text = _row_differences(ctx, "m", "nm.data", *without_id)
        return f"""SELECT subject_key, household_id, member_id, household_no, division_code,
            name || '（' || relation || '）与国扶系统不一致：' || RTRIM(diff, '；') AS detail
        FROM (
            SELECT {subject}, m.name, m.relation, {by_no_text} AS diff
            FROM {NATIONAL_MEMBER} nm JOIN {MEMBER} m ON m.member_no = nm.member_no
            JOIN {HOUSEHOLD} h ON h.id = m.household_id
            WHERE nm.snapshot_id = {snapshot} AND COALESCE(nm.member_no, '') <> '' AND ({by_no})
            UNION ALL
            SELECT {subject}, m.name, m.relation, {by_id_text} AS diff
            FROM {NATIONAL_MEMBER} nm JOIN {MEMBER} m ON m.id_number = nm.id_number
            JOIN {HOUSEHOLD} h ON h.id = m.household_id AND h.household_no = nm.household_no
            WHERE nm.snapshot_id = {snapshot} AND COALESCE(nm.member_no, '') = '' AND ({by_id})
        ) x"""
    by_no, by_no_text = _differences(
        ctx, "m", "j", (*MEMBER_TEXT_FIELDS, ("id_number", "证件号码")), MEMBER_NUMBER_FIELDS, MEMBER_BOOL_FIELDS
    )
    by_id, by_id_text = _differences(ctx, "m", "j", MEMBER_TEXT_FIELDS, MEMBER_NUMBER_FIELDS, MEMBER_BOOL_FIELDS)
    return f"""SELECT {ctx.member_subject()}, {ctx.member_name()} || '与国扶系统不一致：' || d.diffs AS detail
    FROM (SELECT mid, {ctx.agg("diff", sep="；")} AS diffs FROM (
            SELECT m.id AS mid, {by_no_text} AS diff
            FROM {NATIONAL_MEMBER} nm JOIN {MEMBER} m ON m.member_no = nm.member_no
            CROSS JOIN {ctx.json_members("nm.data", "j")}
            WHERE nm.snapshot_id = {snapshot} AND COALESCE(nm.member_no, '') <> '' AND {by_no}
            UNION ALL
            SELECT m.id AS mid, {by_id_text} AS diff
            FROM {NATIONAL_MEMBER} nm JOIN {MEMBER} m ON m.id_number = nm.id_number
            JOIN {HOUSEHOLD} hh ON hh.id = m.household_id AND hh.household_no = nm.household_no
            CROSS JOIN {ctx.json_members("nm.data", "j")}
            WHERE nm.snapshot_id = {snapshot} AND COALESCE(nm.member_no, '') = '' AND {by_id}
        ) one GROUP BY mid) d
    JOIN {MEMBER} m ON m.id = d.mid JOIN {HOUSEHOLD} h ON h.id = m.household_id"""


@rule(
    code="R3-16",
    topic="national_missing",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("本系统的户在国扶系统中没有"),
    explanation=_(
        "该户在本系统中，但不在最新一期国扶系统快照里（只比对快照覆盖的县）。可能是户编号录错、已被国扶系统清退或快照不完整。"
        "请核实户编号和户的状态。"
    ),
    requires_snapshot=True,
    uses=(SNAPSHOT,),
)
def national_missing_there(ctx: Ctx) -> str:
    snapshot = int(ctx.snapshot_id or 0)
    return f"""SELECT {ctx.household_subject()}, '户编号 ' || h.household_no || ' 不在国扶系统快照中' AS detail
    FROM {HOUSEHOLD} h
    WHERE SUBSTR(h.division_code, 1, 6) IN (
            SELECT SUBSTR(division_code, 1, 6) FROM {NATIONAL_HOUSEHOLD} WHERE snapshot_id = {snapshot})
      AND NOT EXISTS (SELECT 1 FROM {NATIONAL_HOUSEHOLD} nh
            WHERE nh.snapshot_id = {snapshot} AND nh.household_no = h.household_no)"""


@rule(
    code="R3-17",
    topic="national_missing",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.HIGH,
    subject=SubjectKind.HOUSEHOLD,
    title=_("国扶系统的户在本系统中没有"),
    explanation=_(
        "该户在最新一期国扶系统快照中，但本系统没有（按户编号）。可能是漏导入或户编号不一致。请补录该户或更正户编号。"
    ),
    requires_snapshot=True,
    uses=(SNAPSHOT,),
)
def national_missing_here(ctx: Ctx) -> str:
    snapshot = int(ctx.snapshot_id or 0)
    head = ctx.json_text("nh.data", "head_name")
    return f"""SELECT 'N' || nh.household_no AS subject_key, {NULL_ID} AS household_id, {NULL_ID} AS member_id,
        nh.household_no AS household_no, nh.division_code AS division_code,
        '国扶系统有户编号 ' || nh.household_no || '（户主 ' || {head} || '），本系统没有' AS detail
    FROM {NATIONAL_HOUSEHOLD} nh
    WHERE nh.snapshot_id = {snapshot}
      AND NOT EXISTS (SELECT 1 FROM {HOUSEHOLD} h WHERE h.household_no = nh.household_no)"""


@rule(
    code="R3-18",
    topic="dept_mismatch",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("在校生状况与教育部门名单不一致"),
    explanation=_(
        "在校生状况应与教育部门在校学生名单一致：在名单中的成员不应登记为非在校生；登记在读义务教育或高中阶段的成员应在名单中。"
        "请与学校或教育部门核实后更正。仅在导入在校学生名单后检查。"
    ),
    requires_lists=("students",),
)
def students_mismatch(ctx: Ctx) -> str:
    school_grades = ctx.plist((*codes.PRIMARY_GRADES, *codes.JUNIOR_GRADES, *codes.SENIOR_GRADES))
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '在教育部门在校学生名单中（' || COALESCE(NULLIF(dl.category, ''), '学段未填')
        || '），系统登记为' || COALESCE(NULLIF(m.school_status, ''), '未填写') AS detail
    {_members()}
    JOIN {ctx.list_rows("students", "id_number, category")} dl ON dl.id_number = m.id_number
    WHERE {ctx.active("m")} AND NOT ({ctx.student("m")})
    UNION ALL
    SELECT {ctx.member_subject()},
        {ctx.member_name()} || '登记为' || m.school_status || '，但不在教育部门在校学生名单中' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND m.school_status IN {school_grades}
      AND NOT EXISTS (SELECT 1 FROM {ctx.list_rows("students")} dl WHERE dl.id_number = m.id_number)"""


@rule(
    code="R3-19",
    topic="dept_mismatch",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("残疾状况与残联名单不一致"),
    explanation=_(
        "健康状况中的“残疾”应与残联残疾人名单一致：持证残疾人应登记残疾，登记残疾的应在名单中（未办证的应协助办理残疾证，"
        "以便享受残疾人两项补贴）。仅在导入残疾人名单后检查。"
    ),
    requires_lists=("disabled",),
)
def disabled_mismatch(ctx: Ctx) -> str:
    disabled = ctx.has_health("m", "残疾")
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '在残联名单中（' || COALESCE(NULLIF(dl.category, ''), '类别未填') || '），健康状况登记为'
        || COALESCE(NULLIF(m.health, ''), '未填写') AS detail
    {_members()}
    JOIN {DEPT} dl ON dl.kind = {ctx.p("disabled")} AND dl.id_number = m.id_number
    WHERE {ctx.active("m")} AND NOT {disabled}
    UNION ALL
    SELECT {ctx.member_subject()}, {ctx.member_name()} || '健康状况登记为残疾，但不在残联残疾人名单中' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND {disabled} AND NOT {ctx.on_list("disabled", "m.id_number")}"""


@rule(
    code="R3-20",
    topic="cause_contradiction",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("致贫原因与成员情况矛盾"),
    explanation=_(
        "主要致贫原因应有成员情况支撑：因病致贫应有成员患长期慢性病或大病，因学致贫应有在校生，因残致贫应有残疾成员。"
        "矛盾说明致贫原因未找准或成员信息有误，直接影响“对症下药”。请重新核实致贫原因。"
    ),
)
def cause_contradiction(ctx: Ctx) -> str:
    ill = f"({ctx.has_health('m', '长期慢性病')} OR {ctx.has_health('m', '患有大病')})"
    checks = {
        "因病": (ill, "无成员患长期慢性病或大病"),
        "因学": (ctx.student("m"), "无在校生"),
        "因残": (ctx.has_health("m", "残疾"), "无残疾成员"),
    }
    branches = " OR ".join(
        f"(h.main_cause = '{cause}' AND NOT EXISTS (SELECT 1 FROM {MEMBER} m WHERE m.household_id = h.id "
        f"AND {ctx.active('m')} AND {cond}))"
        for cause, (cond, _text) in checks.items()
    )
    reason = " ".join(f"WHEN '{cause}' THEN '{text}'" for cause, (_cond, text) in checks.items())
    return f"""SELECT {ctx.household_subject()},
        '主要致贫原因为' || h.main_cause || '，但' || (CASE h.main_cause {reason} END) AS detail
    FROM {HOUSEHOLD} h
    WHERE {branches}"""


@rule(
    code="R3-21",
    topic="labor_contradiction",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.MEMBER,
    title=_("劳动年龄健康成员登记为无劳动力"),
    explanation=_(
        "处于劳动年龄、健康状况为健康、不是在校生的成员，劳动技能却登记为丧失劳动力或无劳动力，与实际不符，"
        "也会让该户错过就业帮扶。请核实劳动能力后更正。"
    ),
    params=(Param("labour_ages", [16, 59], _("劳动年龄（周岁，含）")),),
    uses=(REF,),
)
def labor_contradiction(ctx: Ctx) -> str:
    low, high = ctx.setting("labour_ages", [16, 59])
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || ' ' || {ctx.text(ctx.age("m.id_number"))} || ' 岁、健康、非在校生，劳动技能却为'
        || m.labour_skill AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND {ctx.active("m")} AND {ctx.age_between("m.id_number", low, high)}
      AND m.health = '健康' AND NOT ({ctx.student("m")})
      AND m.labour_skill IN {ctx.plist(["丧失劳动力", "无劳动力"])}"""


@rule(
    code="R3-22",
    topic="income_inconsistent",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.LOW,
    subject=SubjectKind.HOUSEHOLD,
    title=_("有生产经营性收入但无生产经营性支出"),
    explanation=_(
        "生产经营性收入应扣除相应的生产经营性支出后计入纯收入。只填收入不填支出会高估人均纯收入。请核实并补填支出。"
    ),
)
def business_without_costs(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()},
        '生产经营性收入 ' || {ctx.int_text("h.business_income")} || ' 元，生产经营性支出未填写或为0' AS detail
    FROM {HOUSEHOLD} h
    WHERE h.business_income > 0 AND COALESCE(h.business_costs, 0) = 0"""


@rule(
    code="R3-23",
    topic="income_inconsistent",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("人均纯收入不在合理范围"),
    explanation=_(
        "人均纯收入小于等于0或超过设定上限，通常是录入错误（如把家庭总收入填成人均、多写一位数）。请核实后更正。"
    ),
    params=(Param("income_max", 100000, _("人均纯收入上限（元）")),),
)
def income_out_of_range(ctx: Ctx) -> str:
    top = ctx.num(ctx.setting("income_max", 100000))
    return f"""SELECT {ctx.household_subject()},
        '人均纯收入 ' || {ctx.int_text("h.income_per_capita")} || ' 元，'
        || CASE WHEN h.income_per_capita <= 0 THEN '不大于0' ELSE '超过上限 ' || {ctx.int_text(top)} || ' 元' END
        AS detail
    FROM {HOUSEHOLD} h
    WHERE h.income_per_capita <= 0 OR h.income_per_capita > {top}"""


def _anyone_working(ctx: Ctx) -> str:
    return f"""EXISTS (SELECT 1 FROM {MEMBER} m WHERE m.household_id = h.id AND {ctx.active("m")}
        AND {ctx.working("m")})"""


@rule(
    code="R3-24",
    topic="work_inconsistent",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.LOW,
    subject=SubjectKind.HOUSEHOLD,
    title=_("有工资性收入但无成员务工"),
    explanation=_(
        "工资性收入来自成员务工。填有工资性收入、却没有任何成员登记务工状况，说明务工信息漏填或收入录错。请核实后更正。"
    ),
)
def wage_without_workers(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()},
        '工资性收入 ' || {ctx.int_text("h.wage_income")} || ' 元，但无成员登记务工' AS detail
    FROM {HOUSEHOLD} h
    WHERE h.wage_income > 0 AND NOT {_anyone_working(ctx)}"""


@rule(
    code="R3-25",
    topic="work_inconsistent",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.LOW,
    subject=SubjectKind.HOUSEHOLD,
    title=_("有成员务工但无工资性收入"),
    explanation=_("有成员登记务工，工资性收入却为空或0，说明收入漏填或务工信息过时。请核实务工情况和收入后更正。"),
)
def workers_without_wage(ctx: Ctx) -> str:
    return f"""SELECT {ctx.household_subject()}, '有成员登记务工，但工资性收入为空或0' AS detail
    FROM {HOUSEHOLD} h
    WHERE COALESCE(h.wage_income, 0) = 0 AND {_anyone_working(ctx)}"""


@rule(
    code="R3-26",
    topic="work_inconsistent",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.LOW,
    subject=SubjectKind.MEMBER,
    title=_("务工时间不在0至12个月"),
    explanation=_(
        "务工时间按一年内实际务工的月数填写，应在0至12个月之间。超出范围通常是把天数或年数填成了月数。请核实后更正。"
    ),
)
def work_months_range(ctx: Ctx) -> str:
    return f"""SELECT {ctx.member_subject()},
        {ctx.member_name()} || '务工时间为 ' || {ctx.text("m.work_months")} || ' 个月' AS detail
    {_scan_members()}
    WHERE h.id = m.household_id AND (m.work_months < 0 OR m.work_months > 12)"""


@rule(
    code="R3-27",
    topic="handbook_unfilled",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("最近一次走访记录手册未填写"),
    explanation=_(
        "《扶贫手册》《挂钩帮扶手册》应填写清楚（方案二(三)、三(一)）。截至基准日最近一次走访记录显示有手册未填写。"
        "请帮扶责任人入户补填，并在下次走访中如实记录。"
    ),
    uses=(REF,),
)
def handbook_unfilled(ctx: Ctx) -> str:
    cutoff = ctx.ref_end()
    latest = f"""(SELECT household_id, MAX(visited_at) AS last_at FROM {VISIT}
        WHERE visited_at < {cutoff} GROUP BY household_id)"""
    missing = (
        "CASE WHEN v.poverty_handbook_filled IS FALSE THEN '《扶贫手册》、' ELSE '' END"
        " || CASE WHEN v.assignment_handbook_filled IS FALSE THEN '《挂钩帮扶手册》、' ELSE '' END"
    )
    return f"""SELECT {ctx.household_subject()},
        '最近一次走访（' || SUBSTR({ctx.text("v.visited_at")}, 1, 10) || '）记录' || RTRIM({missing}, '、')
        || '未填写' AS detail
    FROM {HOUSEHOLD} h JOIN {latest} lv ON lv.household_id = h.id
    JOIN {VISIT} v ON v.household_id = h.id AND v.visited_at = lv.last_at
    WHERE v.poverty_handbook_filled IS FALSE OR v.assignment_handbook_filled IS FALSE"""


ARCHIVE_CHECK = ArchiveCheck._meta.db_table


@rule(
    code="R3-28",
    topic="archive_incomplete",
    dimension=3,
    clause=CLAUSE,
    severity=Severity.MEDIUM,
    subject=SubjectKind.HOUSEHOLD,
    title=_("一户一档资料不全"),
    explanation=_(
        "贫困识别档案资料应完整规范（方案二(三)）。截至基准日最近一次一户一档核查发现档案缺少必备材料"
        "（清单见参数 archive_items，活动未设置时用默认清单）。请村、乡镇补齐缺少的材料并归档，"
        "然后在户详情页登记一次新的核查：材料齐全后，下次运行规则时该问题转为待核验。"
        "从未登记核查的户默认不列为问题；把参数 archive_unchecked_is_finding 设为 true，"
        "截至基准日尚未核查的户也会列出。"
    ),
    params=(
        Param("archive_items", list(ARCHIVE_ITEMS_DEFAULT), _("一户一档必备材料")),
        Param("archive_unchecked_is_finding", False, _("尚未核查的户也列为问题")),
    ),
    uses=(REF,),
)
def archive_incomplete(ctx: Ctx) -> str:
    """Required items minus the items the latest check on or before the reference date found present:
    one CASE per required item (the campaign's list, about ten), so the detail names them in the list's
    order; each household's latest check is picked by ROW_NUMBER (several checks on one day: the last
    recorded)."""
    required = required_archive_items(ctx.campaign)
    missing = " || ".join(
        f"(CASE WHEN {ctx.json_has_value('c.present_items', item)} THEN '' ELSE {ctx.p(item + '、')} END)"
        for item in required
    )
    latest = f"""(SELECT c.household_id, c.checked_on, {missing} AS missing,
            ROW_NUMBER() OVER (PARTITION BY c.household_id ORDER BY c.checked_on DESC, c.id DESC) AS rn
        FROM {ARCHIVE_CHECK} c WHERE c.checked_on <= {ctx.p(ctx.ref)})"""
    checked = f"""'一户一档核查（' || {ctx.text("lc.checked_on")} || '）缺少：' || RTRIM(lc.missing, '、')"""
    if not ctx.setting("archive_unchecked_is_finding", False):
        return f"""SELECT {ctx.household_subject()}, {checked} AS detail
    FROM {HOUSEHOLD} h JOIN {latest} lc ON lc.household_id = h.id AND lc.rn = 1
    WHERE lc.missing <> ''"""
    never = f"'截至基准日（{ctx.ref:%Y-%m-%d}）未登记一户一档核查'"
    return f"""SELECT {ctx.household_subject()},
        CASE WHEN lc.household_id IS NULL THEN {never} ELSE {checked} END AS detail
    FROM {HOUSEHOLD} h LEFT JOIN {latest} lc ON lc.household_id = h.id AND lc.rn = 1
    WHERE lc.household_id IS NULL OR lc.missing <> ''"""
