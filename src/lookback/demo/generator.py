"""The demo data set: exited households of 永泰, 闽清, 罗源, 连江 and 闽侯 as the registry would hold them
in December 2018, with a known share of the problems the seed (榕扶办〔2018〕80号) asks to find.

Everything is drawn from one `random.Random(seed)`, so a seed gives the same data set every time.
Households sit in their real villages (the `Division` table), weighted so that 永泰县 carries about a
third and 嵩口镇 a few hundred of 5,000. Families are built as families (a couple and their children,
three generations, old people alone), so ages, relations, sexes, ID numbers, schooling, health,
labour and work agree with each other; incomes are built from their components and land above the
poverty line of the exit year (`PovertyLine` of the default campaign) unless a problem says otherwise.
Department lists and the national snapshot are derived from the finished registry, so they agree
with it except where a problem below makes them differ.

Deliberate problems (`PROBLEMS`, rate = share of the base; at least one whenever the base is not
empty). `manifest` in the build result lists the subjects of each (household_no, member_no, or the
helper's ID number), so rules can be tested against it:

==============================  =====  =========================  ========================================
key                             rate   base                       what is wrong
==============================  =====  =========================  ========================================
income_below_line               2 %    households                 per-capita income below the exit year's line
return_risk                     1 %    households                 低保/特困 household less than 1.1× the line
income_inconsistent             0.5 %  households                 business income entered without its costs
medical_insurance               1 %    members                    no basic medical insurance (not on 医保 list)
serious_illness_insurance       1 %    members                    no serious-illness insurance (not on list)
stacked_medical_insurance       1.5 %  members                    no stacked medical insurance (not on list)
school_dropout                  3 %    children aged 6–15         非在校生 (and not on the students list)
age_school_mismatch             2 %    students                   grade contradicts age (13 in 高中, 20+ in 小学)
dangerous_house                 1.5 %  households                 house C级/D级 and 未改造 (also on 住建 list)
relocation_not_moved_in         0.6 %  households                 2016/2017 造福工程 household not moved in
dibao_not_on_list               1 %    households                 registry says 低保, 民政's list does not
dibao_not_in_registry           1 %    households                 on 民政's 低保 list, registry says not 低保
dibao_missing                   1 %    households                 no labour, yet neither 低保 nor 特困 (应纳未纳)
tekun_mismatch                  3 %    特困 households            registry says 特困, 民政's list does not
loan_unmet                      1 %    households                 缺资金 and no 小额信贷 (measure or bank list)
unemployed_no_help              1.5 %  households                 a labour-capable member idle, no job/training measure
loan_overdue                    0.5 %  households                 小额信贷 due in 2018, 逾期 on the bank's list
id_invalid                      0.4 %  members                    18-digit ID with a wrong check digit
id_old_format                   0.3 %  members                    15-digit ID (people born before 1990)
id_duplicate                    0.2 %  members                    ID of a member of another household copied
required_missing                0.8 %  members                    文化程度 / 在校生状况 / 健康状况 / 劳动技能 empty
required_missing_cause          0.3 %  households                 主要致贫原因 empty
labor_contradiction             0.3 %  members                    healthy, 16–59, not at school, yet 丧失劳动力
work_inconsistent               0.2 %  members                    务工时间 over 12 months
relation_invalid                0.5 %  sons and daughters         之子 who is female or 之女 who is male
head_missing                    0.4 %  households of 2+           the 户主's row is gone (head fields still name them)
head_multiple                   0.4 %  couples                    the spouse is also 户主
member_count_mismatch           1 %    households                 家庭人口数 ≠ members listed (±1)
deceased_listed                 0.3 %  members aged 60+           on the deaths list, still 正常
cause_contradiction             1 %    households                 因病 none ill, 因残 none disabled, 因学 no pupil
no_measure                      1.5 %  households                 no assistance measure at all
measure_incomplete              2 %    households                 a measure without responsible person or amount
handout_only                    1 %    households                 only 生活救助 hand-outs
no_helper                       1 %    households                 no first helper (none at all, or only a second one)
helper_overloaded               2 %    helpers                    helper with 6–10 households (others have 3–5)
helper_is_poor                  0.3 %  helpers                    the helper is a member of an exited household
no_visit                        3 %    households                 no visit in December 2018
handbook_unfilled               3 %    households                 December visit: a handbook not filled in
helper_unknown                  1.5 %  households                 December visit: does not know the helper
dissatisfied                    1 %    households                 December visit: 不满意
checkin_low                     3 %    households                 fewer than 4 check-ins (visits) in 2018
archive_incomplete              3 %    households                 latest 一户一档 check lacks 1–3 required items
edu_subsidy_missing             1 %    students                   not on the education-subsidy list
national_mismatch               2 %    households                 one field differs in the 2018-11-30 snapshot
national_missing_in_snapshot    0.5 %  households                 household not in the snapshot
national_missing_in_registry    0.3 %  households                 snapshot household not in the registry
==============================  =====  =========================  ========================================

What the clean part holds to (so the rules find the planted problems and little else): helpers have
3–5 households (the campaign's limit is taken as 5); every household has a December visit in the
campaign's window with both handbooks filled, and 4–6 check-ins in 2018 (campaign parameter
`checkins_required`, default 4); households without labour are on 低保 or 特困, and households outside
them earn above the 低保 standard (campaign parameter `dibao_standard`, default 7,200 yuan); every
household short of capital (缺资金) has a micro-loan; every cause has a measure that addresses it; each
household has a current measure; 0.4 % of houses are being renovated (C级, 改造中), which the
dangerous-house rule rightly lists too. About 70 % of households have a 一户一档 (archive) check in
October–December 2018 by their township's officer that found every item of the campaign's list
(`archive_items`); one in twelve of those had an earlier check that lacked an item or two, completed
since. The other households were not checked yet, which the archive rule does not count by default.

Some consequences are natural and not listed: a member with a broken or shared ID does not match the
department lists (they carry the right number), so problems that compare the registry with a list
are planted on other people; a household may carry several problems, and some problems imply others
(a household without measures also has idle workers without job help, a below-line household
outside 低保 is also 应纳未纳).

The national snapshot (dated 2018-11-30) keeps each row's `data` keyed by the Household / Member
field names (`HOUSEHOLD_FIELDS`, `MEMBER_FIELDS`) with the stored values as JSON: labels and text as
strings, decimals as strings with their stored places ("6024.50", "11.0"), yes/no as true/false/null,
years and counts as numbers, 其他致贫原因 as a list.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from stdnum.cn import ric

from lookback.core import codes
from lookback.demo import names
from lookback.registry.models import ARCHIVE_ITEMS_DEFAULT

REFERENCE_DATE = date(2018, 12, 31)
SNAPSHOT_DATE = date(2018, 11, 30)
CITY_CODE = "350100000000"
TZ = ZoneInfo("Asia/Shanghai")

# County share of the households, and 嵩口镇's share of 永泰县's.
COUNTY_SHARES: dict[str, float] = {
    "350125": 0.34,  # 永泰县
    "350124": 0.18,  # 闽清县
    "350123": 0.14,  # 罗源县
    "350122": 0.16,  # 连江县
    "350121": 0.18,  # 闽侯县
}
SONGKOU_PREFIX = "350125101"
SONGKOU_SHARE = 0.17
# Rough county seats (longitude, latitude); villages are placed around them deterministically.
COUNTY_CENTRES: dict[str, tuple[float, float]] = {
    "350125": (118.93, 25.87),
    "350124": (118.86, 26.22),
    "350123": (119.55, 26.49),
    "350122": (119.54, 26.20),
    "350121": (119.13, 26.15),
}
SHE_SHARE: dict[str, float] = {"350123": 0.08, "350122": 0.03, "350121": 0.01}
HELPER_LIMIT = 5
ARCHIVE_CHECKED_SHARE = 0.7  # households whose archive the township went through by the reference date
ARCHIVE_RECHECKED_SHARE = 1 / 12  # of those: first found incomplete, completed and checked again
ONE_DECIMAL = Decimal("0.1")  # 务工时间（月） is stored with one decimal; the snapshot must say it the same way


class Share(NamedTuple):
    rate: float
    base: str
    topic: str


# The one place the problem shares live (see the table in the module docstring).
PROBLEMS: dict[str, Share] = {
    "income_below_line": Share(0.02, "households", "income_below_line"),
    "return_risk": Share(0.01, "households", "return_risk"),
    "income_inconsistent": Share(0.005, "households", "income_inconsistent"),
    "medical_insurance": Share(0.01, "members", "medical_insurance"),
    "serious_illness_insurance": Share(0.01, "members", "serious_illness_insurance"),
    "stacked_medical_insurance": Share(0.015, "members", "stacked_medical_insurance"),
    "school_dropout": Share(0.03, "children aged 6-15", "school_dropout"),
    "age_school_mismatch": Share(0.02, "students", "age_school_mismatch"),
    "dangerous_house": Share(0.015, "households", "dangerous_house"),
    "relocation_not_moved_in": Share(0.006, "households", "relocation_not_moved_in"),
    "dibao_not_on_list": Share(0.01, "households", "dibao_mismatch"),
    "dibao_not_in_registry": Share(0.01, "households", "dibao_mismatch"),
    "dibao_missing": Share(0.01, "households", "dibao_missing"),
    "tekun_mismatch": Share(0.03, "tekun households", "tekun_mismatch"),
    "loan_unmet": Share(0.01, "households", "loan_unmet"),
    "unemployed_no_help": Share(0.015, "households", "unemployed_no_help"),
    "loan_overdue": Share(0.005, "households", "loan_overdue"),
    "id_invalid": Share(0.004, "members", "id_invalid"),
    "id_old_format": Share(0.003, "members", "id_old_format"),
    "id_duplicate": Share(0.002, "members", "id_duplicate"),
    "required_missing": Share(0.008, "members", "required_missing"),
    "required_missing_cause": Share(0.003, "households", "required_missing"),
    "labor_contradiction": Share(0.003, "members", "labor_contradiction"),
    "work_inconsistent": Share(0.002, "members", "work_inconsistent"),
    "relation_invalid": Share(0.005, "sons and daughters", "relation_invalid"),
    "head_missing": Share(0.004, "households of 2+", "head_missing"),
    "head_multiple": Share(0.004, "couples", "head_multiple"),
    "member_count_mismatch": Share(0.01, "households", "member_count_mismatch"),
    "deceased_listed": Share(0.003, "members aged 60+", "deceased_listed"),
    "cause_contradiction": Share(0.01, "households", "cause_contradiction"),
    "no_measure": Share(0.015, "households", "no_measure"),
    "measure_incomplete": Share(0.02, "households", "measure_incomplete"),
    "handout_only": Share(0.01, "households", "handout_only"),
    "no_helper": Share(0.01, "households", "no_helper"),
    "helper_overloaded": Share(0.02, "helpers", "helper_overloaded"),
    "helper_is_poor": Share(0.003, "helpers", "helper_is_poor"),
    "no_visit": Share(0.03, "households", "no_visit"),
    "handbook_unfilled": Share(0.03, "households", "handbook_unfilled"),
    "helper_unknown": Share(0.015, "households", "helper_unknown"),
    "dissatisfied": Share(0.01, "households", "dissatisfied"),
    "checkin_low": Share(0.03, "households", "checkin_low"),
    "archive_incomplete": Share(0.03, "households", "archive_incomplete"),
    "edu_subsidy_missing": Share(0.01, "students", "edu_subsidy"),
    "national_mismatch": Share(0.02, "households", "national_mismatch"),
    "national_missing_in_snapshot": Share(0.005, "households", "national_missing"),
    "national_missing_in_registry": Share(0.003, "households", "national_missing"),
}
PROBLEM_RATES: dict[str, float] = {key: share.rate for key, share in PROBLEMS.items()}

# Causes → measure types that address them (issue 4's default map); the first applicable one is used.
CAUSE_MEASURES: dict[str, tuple[str, ...]] = {
    "因病": ("健康扶贫",),
    "因残": ("健康扶贫", "低保兜底", "特困供养", "公益性岗位"),
    "因学": ("教育资助",),
    "因灾": ("危房改造", "产业扶持"),
    "缺技术": ("技能培训", "就业帮扶"),
    "缺劳动力": ("低保兜底", "特困供养", "资产收益", "光伏扶贫"),
    "缺资金": ("小额信贷", "产业扶持"),
    "缺土地": ("资产收益", "就业帮扶", "产业扶持"),
    "交通条件落后": ("造福工程搬迁", "产业扶持"),
    "自身发展动力不足": ("就业帮扶", "技能培训", "产业扶持"),
    "缺水": ("产业扶持",),
}
JOB_MEASURES = ("就业帮扶", "技能培训", "公益性岗位")

IN_SCHOOL = tuple(label for label in codes.SCHOOL_STATUS.labels if label != "非在校生")


# --- the in-memory data set -------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class MemberData:
    name: str
    sex: str
    birth: date
    relation: str
    id_number: str = ""
    true_id: str = ""  # the number other departments know (differs only for deliberately broken IDs)
    member_no: str = ""
    ethnicity: str = "汉族"
    political_status: str = "群众"
    education: str = ""
    school_status: str = "非在校生"
    health: str = "健康"
    disability_type: str = ""
    labour_skill: str = ""
    work_status: str = ""
    work_months: Decimal | None = None
    has_basic_medical: bool | None = True
    has_serious_illness: bool | None = True
    has_stacked_medical: bool | None = True
    has_employee_medical: bool | None = False
    is_dibao: bool | None = False
    is_tekun: bool | None = False
    has_pension: bool | None = None
    status: str = "正常"
    phone: str = ""
    on_deaths_list: bool = False
    not_at_school: bool = False  # registry says at school, the school does not know them

    @property
    def age(self) -> int:
        return age_at(self.birth, REFERENCE_DATE)

    @property
    def in_school(self) -> bool:
        return self.school_status in IN_SCHOOL

    @property
    def ill(self) -> bool:
        return "长期慢性病" in self.health or "患有大病" in self.health

    @property
    def disabled(self) -> bool:
        return "残疾" in self.health

    @property
    def capable(self) -> bool:
        return self.labour_skill in codes.LABOUR_CAPABLE


@dataclass(slots=True, eq=False)
class HelperData:
    name: str
    id_number: str
    work_unit: str
    position: str
    phone: str
    township_code: str
    households: list[HouseholdData] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class MeasureData:
    measure_type: str
    content: str
    amount: Decimal | None
    responsible_person: str
    start_date: date
    end_date: date | None
    status: str
    project_no: str = ""


@dataclass(slots=True, eq=False)
class VisitData:
    helper: HelperData | None
    helper_name: str
    visited_at: datetime
    visit_type: str
    longitude: Decimal
    latitude: Decimal
    content: str
    poverty_handbook_filled: bool | None = None
    assignment_handbook_filled: bool | None = None
    needs: str = ""
    knows_helper: bool | None = None
    satisfaction: str = ""


@dataclass(slots=True, eq=False)
class ArchiveCheckData:
    checked_on: date
    checker_name: str
    present_items: list[str]
    note: str = ""


@dataclass(slots=True, eq=False)
class ListEntry:
    kind: str
    id_number: str
    name: str
    division_code: str
    category: str = ""
    status: str = ""
    amount: Decimal | None = None
    start_date: date | None = None
    end_date: date | None = None
    year: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class HouseholdData:
    household_no: str
    village: Any  # Division
    township: Any
    county: Any
    members: list[MemberData]
    kind: str  # family shape, for the generator only
    size: int = 0
    attribute: str = "一般脱贫户"
    exit_status: str = "已脱贫（享受政策）"
    exit_year: int = 2016
    identification_standard: str = "国家标准"
    identification_year: int = 2014
    main_cause: str = ""
    other_causes: list[str] = field(default_factory=list)
    income_per_capita: Decimal | None = None
    wage_income: Decimal | None = None
    business_income: Decimal | None = None
    property_income: Decimal | None = None
    transfer_income: Decimal | None = None
    business_costs: Decimal | None = None
    house_grade: str = "B级"
    house_area: Decimal | None = None
    renovation_status: str = "无需改造"
    is_relocated: bool | None = False
    relocation_year: int | None = None
    moved_in: bool | None = None
    safe_water: bool | None = True
    has_electricity: bool | None = True
    has_sanitary_toilet: bool | None = True
    phone: str = ""
    head_name: str = ""
    head_id_number: str = ""
    assignments: list[tuple[HelperData, bool]] = field(default_factory=list)
    measures: list[MeasureData] = field(default_factory=list)
    visits: list[VisitData] = field(default_factory=list)
    archive_checks: list[ArchiveCheckData] = field(default_factory=list)  # oldest first
    housing_entry: dict[str, Any] | None = None
    relocation_site: str = ""
    loan: dict[str, Any] | None = None
    no_job_measures: bool = False
    dibao_missing: bool = False
    snapshot_only: bool = False

    @property
    def division_code(self) -> str:
        return self.village.code

    @property
    def head(self) -> MemberData | None:
        return next((m for m in self.members if m.relation == "户主"), None)

    def first_helper(self) -> HelperData | None:
        firsts = [h for h, is_first in self.assignments if is_first]
        if firsts:
            return firsts[0]
        return self.assignments[0][0] if self.assignments else None


@dataclass
class DemoData:
    households: list[HouseholdData]
    snapshot_only: list[HouseholdData]
    helpers: list[HelperData]
    lists: list[ListEntry]
    national_households: list[dict[str, Any]]
    national_members: list[dict[str, Any]]
    manifest: dict[str, list[str]]
    demo_helper: HelperData | None


# --- small helpers -----------------------------------------------------------------------------------


def age_at(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def money(value: float | int | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def id_check_ok(number: str) -> bool:
    """18 characters, a real birth date and the right check digit.

    python-stdnum's `ric.is_valid` also requires the region code to have existed in the birth year,
    which rejects everyone in 永泰 born before 1983 (the county's code dates from then, but people
    born earlier carry it too); so only its check digit and birth-date parts are used here.
    """
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        ric.get_birth_date(number)
    except Exception:
        return False
    return number[-1] == ric.calc_check_digit(number)


def _stable_unit(text: str) -> float:
    """A number in [0, 1) fixed by `text`, so places stay where they are whatever the seed."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0x100000000


def village_position(code: str) -> tuple[float, float]:
    lon, lat = COUNTY_CENTRES.get(code[:6], (119.3, 26.08))
    lon += (_stable_unit(code[:9]) - 0.5) * 0.36 + (_stable_unit(code) - 0.5) * 0.08
    lat += (_stable_unit(code[:9] + "lat") - 0.5) * 0.3 + (_stable_unit(code + "lat") - 0.5) * 0.06
    return lon, lat


class _Picker:
    """Weighted choice with precomputed cumulative weights (random.choices recomputes them per call)."""

    def __init__(self, weights: dict[Any, float]):
        self.items = list(weights)
        self.cum = list(accumulate(weights.values()))

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.cum[-1])]


_WORK_PICKER = _Picker({"乡（镇）内务工": 20, "乡（镇）外县内务工": 30, "县外省内务工": 30, "省外务工": 15, "其他": 5})
_EXIT_YEAR_PICKER = _Picker({2014: 0.15, 2015: 0.2, 2016: 0.3, 2017: 0.25, 2018: 0.1})


# --- the generator -----------------------------------------------------------------------------------


class Generator:
    def __init__(
        self,
        *,
        seed: int,
        households: int,
        villages: list[Any],
        poverty_lines: dict[int, Decimal],
        visit_start: date,
        visit_end: date,
        dibao_standard: float = 7200,
        checkins_required: int = 4,
        archive_items: list[str] | tuple[str, ...] = ARCHIVE_ITEMS_DEFAULT,
    ) -> None:
        self.rng = random.Random(seed)
        self.archive_items = list(archive_items)
        self.dibao_standard = dibao_standard
        self.checkins_required = checkins_required
        self.n_households = households
        self.villages = villages
        self.lines = poverty_lines
        self.visit_start = visit_start
        self.visit_end = visit_end
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()
        self.manifest: dict[str, list[str]] = {key: [] for key in PROBLEMS}
        self._taken: dict[str, set[int]] = {}
        self._id_members: set[int] = set()
        self._id_households: set[int] = set()
        self._surname = _Picker(names.SURNAMES)
        self._she_surname = _Picker(names.SHE_SURNAMES)
        self._disability = _Picker(names.DISABILITY_TYPES)

    # -- public

    def generate(self) -> DemoData:
        households = self._households()
        # Households the national system still has but the registry lost (transferred, merged …).
        snapshot_only = self.rng.sample(households, self._extra())
        for hh in snapshot_only:
            hh.snapshot_only = True
            self.manifest["national_missing_in_registry"].append(hh.household_no)
        households = [hh for hh in households if not hh.snapshot_only]
        self._member_problems(households)
        for hh in households + snapshot_only:
            self._incomes(hh)
        self._income_problems(households)
        self._housing(households)
        helpers, demo_helper = self._helpers(households)
        for hh in households:
            self._measures(hh)
        self._measure_problems(households)
        for hh in households:
            self._visits(hh)
        self._visit_problems(households)
        lists = self._lists(households)
        national_households, national_members = self._snapshot(households, snapshot_only)
        # Last, so that adding the archive checks left every draw before them (and the data) as it was.
        self._archive_checks(households)
        return DemoData(
            households=households,
            snapshot_only=snapshot_only,
            helpers=helpers,
            lists=lists,
            national_households=national_households,
            national_members=national_members,
            manifest=self.manifest,
            demo_helper=demo_helper,
        )

    # -- choosing the subjects of a problem

    def _count(self, key: str, base_size: int) -> int:
        if base_size == 0:
            return 0
        return max(1, round(PROBLEMS[key].rate * base_size))

    def _pick(self, key: str, candidates: list[Any], base_size: int, group: str | None = None) -> list[Any]:
        """Choose the subjects of problem `key`; objects already taken in `group` are skipped."""
        taken = self._taken.setdefault(group, set()) if group else set()
        free = [c for c in candidates if id(c) not in taken]
        chosen = self.rng.sample(free, min(self._count(key, base_size), len(free)))
        taken.update(id(c) for c in chosen)
        return chosen

    def _pick_households(self, key: str, candidates: list[HouseholdData], base: list[Any], group: str | None = None):
        chosen = self._pick(key, candidates, len(base), group)
        self.manifest[key].extend(hh.household_no for hh in chosen)
        return chosen

    def _pick_members(self, key: str, candidates: list[tuple[HouseholdData, MemberData]], base_size: int, group="m"):
        if group != "id":
            candidates = [(hh, m) for hh, m in candidates if id(m) not in self._id_members]
        chosen = self._pick(key, [m for _, m in candidates], base_size, group)
        chosen_ids = {id(m) for m in chosen}
        pairs = [(hh, m) for hh, m in candidates if id(m) in chosen_ids]
        self.manifest[key].extend(m.member_no for _, m in pairs)
        return pairs

    # -- names, numbers

    def _name(self, surname: str, sex: str, born: date) -> str:
        cohort = next(c for c in (1960, 1980, 2000, 9999) if born.year < c)
        first, second = names.GIVEN[(sex, cohort)]
        if self.rng.random() < 0.08:
            return surname + self.rng.choice(second)
        a, b = self.rng.choice(first), self.rng.choice(second)
        if a == b:
            b = self.rng.choice(second)
        return surname + a + b

    def _id_number(self, region: str, born: date, sex: str) -> str:
        for _ in range(50):
            seq = self.rng.randrange(0, 1000)
            # The sequence's last digit is odd for men, even for women.
            if (seq % 2 == 1) != (sex == "男"):
                seq = (seq + 1) % 1000
            body = f"{region}{born:%Y%m%d}{seq:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number
        raise RuntimeError("ID sequence space exhausted")  # 1,000 numbers per place and day

    def _phone(self) -> str:
        while True:
            number = self.rng.choice(("13", "15", "18", "13", "15")) + str(self.rng.randint(0, 9))
            number += f"{self.rng.randrange(0, 10**8):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def _birth(self, age: int) -> date:
        # Anyone born in year Y is Y-years-old on 31 December: the reference date is the last day of 2018.
        year = REFERENCE_DATE.year - age
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(0, 365))

    # -- places and households

    def _village_weights(self) -> dict[Any, float]:
        by_county: dict[str, dict[str, list[Any]]] = {}
        for village in self.villages:
            by_county.setdefault(village.code[:6], {}).setdefault(village.code[:9], []).append(village)
        weights: dict[Any, float] = {}
        for county, townships in by_county.items():
            township_weight = {t: len(vs) * self.rng.uniform(0.5, 1.5) for t, vs in townships.items()}
            if SONGKOU_PREFIX in township_weight:
                others = sum(w for t, w in township_weight.items() if t != SONGKOU_PREFIX)
                township_weight[SONGKOU_PREFIX] = others * SONGKOU_SHARE / (1 - SONGKOU_SHARE)
            total_t = sum(township_weight.values())
            for township, villages in townships.items():
                # Urban communities (codes x01–x199) have few registered poor households.
                village_weight = {v: (0.15 if int(v.code[9:]) < 200 else self.rng.uniform(0.3, 1.7)) for v in villages}
                total_v = sum(village_weight.values())
                for v, w in village_weight.items():
                    weights[v] = COUNTY_SHARES.get(county, 0.0) * township_weight[township] / total_t * w / total_v
        return weights

    def _households(self) -> list[HouseholdData]:
        pick_village = _Picker(self._village_weights())
        # A few more than asked for: national_missing_in_registry takes its households out again.
        chosen = sorted(
            (pick_village(self.rng) for _ in range(self.n_households + self._extra())), key=lambda v: v.code
        )
        seq: dict[str, int] = {}
        households = []
        for village in chosen:
            seq[village.code] = seq.get(village.code, self.rng.randint(0, 40)) + self.rng.randint(1, 7)
            township = village.parent
            county = township.parent
            hh = self._family(f"{village.code}{seq[village.code]:06d}", village, township, county)
            households.append(hh)
        return households

    def _extra(self) -> int:
        return self._count("national_missing_in_registry", self.n_households) if self.n_households >= 20 else 0

    _FAMILIES = _Picker(
        {
            "elder_alone": 0.13,
            "elder_couple": 0.15,
            "nuclear": 0.36,
            "with_parents": 0.12,
            "with_grandchildren": 0.10,
            "single_parent": 0.08,
            "adult_alone": 0.06,
        }
    )

    def _family(self, household_no: str, village: Any, township: Any, county: Any) -> HouseholdData:
        rng = self.rng
        kind = self._FAMILIES(rng)
        county_code = village.code[:6]
        she = rng.random() < SHE_SHARE.get(county_code, 0.005)
        surname_pick = self._she_surname if she else self._surname

        people: list[tuple[str, str, int]] = []  # relation, sex, age

        def children(mother_age: int, relation_son: str, relation_daughter: str, count: int) -> None:
            ages = sorted({max(0, mother_age - rng.randint(20, 38)) for _ in range(count)}, reverse=True)
            for age in ages:
                boy = rng.random() < 0.53
                people.append((relation_son if boy else relation_daughter, "男" if boy else "女", age))

        if kind == "elder_alone":
            people.append(("户主", "男" if rng.random() < 0.55 else "女", rng.randint(62, 90)))
        elif kind == "elder_couple":
            head = rng.randint(60, 85)
            people += [("户主", "男", head), ("配偶", "女", max(55, head - rng.randint(-2, 6)))]
        elif kind in ("nuclear", "with_parents"):
            head = rng.randint(28, 55) if kind == "nuclear" else rng.randint(30, 48)
            wife = max(22, head - rng.randint(-2, 6))
            people += [("户主", "男", head), ("配偶", "女", wife)]
            children(wife, "之子", "之女", rng.choice((1, 1, 2, 2, 2, 3)))
            if kind == "with_parents":
                father = head + rng.randint(22, 34)
                if rng.random() < 0.6 and father <= 92:
                    people.append(("之父", "男", father))
                people.append(("之母", "女", min(95, father - rng.randint(0, 5))))
        elif kind == "with_grandchildren":
            head = rng.randint(50, 70)
            wife = max(45, head - rng.randint(-2, 5))
            son = max(22, wife - rng.randint(22, 32))
            people += [("户主", "男", head), ("配偶", "女", wife), ("之子", "男", son)]
            daughter_in_law = max(20, son - rng.randint(-2, 5))
            people.append(("之儿媳", "女", daughter_in_law))
            children(daughter_in_law, "之孙子", "之孙女", rng.choice((1, 1, 2)))
        elif kind == "single_parent":
            female = rng.random() < 0.65
            head = rng.randint(30, 55)
            people.append(("户主", "女" if female else "男", head))
            children(head if female else head - 3, "之子", "之女", rng.choice((1, 2)))
        else:  # adult_alone
            people.append(("户主", "男" if rng.random() < 0.7 else "女", rng.randint(25, 60)))

        family_surname = surname_pick(rng)
        head_sex = people[0][1]
        # A widow heading the family keeps her own surname; the children carry their late father's.
        head_surname = family_surname if head_sex == "男" else surname_pick(rng)
        members = []
        for relation, sex, age in people:
            born = self._birth(age)
            if relation in ("户主",):
                surname = head_surname
            elif relation in ("之子", "之女", "之父", "之孙子", "之孙女"):
                surname = family_surname
            else:
                surname = surname_pick(rng)  # wives, mothers and daughters-in-law keep their own
            member = MemberData(
                name=self._name(surname, sex, born), sex=sex, birth=born, relation=relation, ethnicity="汉族"
            )
            if she and (relation not in ("配偶", "之儿媳", "之母") or rng.random() < 0.5):
                member.ethnicity = "畲族"
            member.id_number = member.true_id = self._id_number(county_code, born, sex)
            self._member_attributes(member)
            members.append(member)
        for k, member in enumerate(members, start=1):
            member.member_no = f"{household_no}{k:02d}"

        hh = HouseholdData(
            household_no=household_no, village=village, township=township, county=county, members=members, kind=kind
        )
        self._household_attributes(hh)
        return hh

    def _member_attributes(self, m: MemberData) -> None:
        rng = self.rng
        age = m.age
        # Schooling follows the age on the reference date.
        if age <= 2:
            m.education, m.school_status = "学龄前儿童", "非在校生"
        elif age <= 5:
            m.education, m.school_status = "学龄前儿童", "学前教育"
        elif age <= 11:
            m.education, m.school_status = "小学", "小学"
        elif age <= 14:
            m.education, m.school_status = "初中", ("七年级", "八年级", "九年级")[age - 12]
        elif age <= 17:
            r = rng.random()
            year = ("一", "二", "三")[age - 15]
            if age == 15 and r < 0.1:
                m.education, m.school_status = "初中", "九年级"
            elif r < 0.6:
                m.education, m.school_status = "高中", f"高中{year}年级"
            elif r < 0.88 or age == 15:
                m.education, m.school_status = "高中", f"中职{year}年级"
            else:
                m.education, m.school_status = "初中", "非在校生"
        elif age <= 22 and rng.random() < (0.45 if age <= 19 else 0.3):
            m.school_status = rng.choice(("高职一年级", "高职二年级", "高职三年级", "大专及以上", "大专及以上"))
            m.education = "大专" if m.school_status.startswith("高职") else rng.choice(("大专", "本科及以上"))
        else:
            m.school_status = "非在校生"
            m.education = self._adult_education(m.birth.year)

        r = rng.random()
        if age < 16:
            health = "健康" if r < 0.95 else ("患有大病" if r < 0.97 else "残疾")
        elif age < 60:
            health = "健康" if r < 0.82 else ("长期慢性病" if r < 0.91 else ("患有大病" if r < 0.95 else "残疾"))
        else:
            health = "健康" if r < 0.45 else ("长期慢性病" if r < 0.85 else ("患有大病" if r < 0.92 else "残疾"))
        if health == "残疾":
            m.disability_type = self._disability(rng)
            if rng.random() < 0.15:
                health = "长期慢性病,残疾"  # several values, in code-list order
        m.health = health

        if age < 16 or m.in_school:
            m.labour_skill = "无劳动力"
        elif age < 60:
            if health == "健康":
                m.labour_skill = "技能劳动力" if rng.random() < 0.2 else "普通劳动力"
            elif health == "长期慢性病":
                m.labour_skill = "弱劳动力或半劳动力"
            else:
                m.labour_skill = "丧失劳动力" if rng.random() < 0.55 else "弱劳动力或半劳动力"
        elif age < 65 and health == "健康":
            m.labour_skill = "弱劳动力或半劳动力"
        else:
            m.labour_skill = "丧失劳动力" if (health != "健康" or rng.random() < 0.7) else "弱劳动力或半劳动力"

        if m.capable and rng.random() < 0.88:
            m.work_status = _WORK_PICKER(rng)
            m.work_months = Decimal(rng.choice((6, 8, 9, 10, 10, 11, 12, 12, 12))).quantize(ONE_DECIMAL)
        elif m.labour_skill == "弱劳动力或半劳动力" and age < 65 and rng.random() < 0.3:
            m.work_status = rng.choice(("乡（镇）内务工", "乡（镇）外县内务工"))
            m.work_months = Decimal(rng.randint(3, 8)).quantize(ONE_DECIMAL)

        if age >= 25 and rng.random() < 0.03:
            m.political_status = "中共党员"
        elif 14 <= age <= 28 and rng.random() < 0.3:
            m.political_status = "共青团员"
        m.has_pension = (
            True if (age >= 16 and not m.in_school and rng.random() < 0.96) else (False if age >= 16 else None)
        )
        if age >= 18 and (m.relation == "户主" or rng.random() < 0.4):
            m.phone = self._phone()

    def _adult_education(self, year: int) -> str:
        r = self.rng.random()
        if year < 1950:
            return "文盲或半文盲" if r < 0.5 else ("小学" if r < 0.95 else "初中")
        if year < 1965:
            return "文盲或半文盲" if r < 0.25 else ("小学" if r < 0.75 else ("初中" if r < 0.97 else "高中"))
        if year < 1980:
            return "文盲或半文盲" if r < 0.05 else ("小学" if r < 0.45 else ("初中" if r < 0.9 else "高中"))
        if year < 1996:
            return "小学" if r < 0.15 else ("初中" if r < 0.75 else ("高中" if r < 0.93 else "大专"))
        return "初中" if r < 0.5 else ("高中" if r < 0.8 else ("大专" if r < 0.95 else "本科及以上"))

    def _household_attributes(self, hh: HouseholdData) -> None:
        rng = self.rng
        members = hh.members
        capable = [m for m in members if m.capable]
        if hh.kind == "elder_alone" and rng.random() < 0.35:
            hh.attribute = "特困供养脱贫户"
            members[0].is_tekun = True
        elif not capable or rng.random() < 0.12:
            # 兜底: every household without labour is on 低保 or 特困 (应纳尽纳), plus some others.
            hh.attribute = "低保脱贫户"
            for m in members:
                m.is_dibao = True
        hh.exit_year = int(_EXIT_YEAR_PICKER(rng))
        hh.identification_year = min(hh.exit_year, rng.choice((2014, 2014, 2014, 2014, 2015, 2016)))
        hh.identification_standard = "国家标准" if rng.random() < 0.8 else "省定标准"
        if hh.exit_year <= 2015 and rng.random() < 0.1:
            hh.exit_status = "已脱贫（不再享受政策）"
        hh.main_cause, hh.other_causes = self._causes(members)
        hh.safe_water = rng.random() < 0.985
        hh.has_electricity = rng.random() < 0.998
        hh.has_sanitary_toilet = rng.random() < 0.93
        hh.house_grade = "A级" if rng.random() < 0.33 else "B级"
        hh.house_area = money(rng.randint(35, 60) + 18 * len(members) + rng.randint(0, 40))
        head = members[0]
        hh.phone = head.phone or self._phone()
        hh.size = len(members)
        hh.head_name, hh.head_id_number = head.name, head.id_number

    def _causes(self, members: list[MemberData]) -> tuple[str, list[str]]:
        rng = self.rng
        ill = any(m.ill for m in members)
        disabled = any(m.disabled for m in members)
        students = [m for m in members if m.in_school and m.school_status not in ("学前教育",)]
        costly = [m for m in students if m.school_status not in ("小学", *codes.JUNIOR_GRADES)]
        capable = sum(m.capable for m in members)
        weights = {
            "因病": 75.0 if ill else 0.0,
            "因残": 45.0 if disabled else 0.0,
            "因学": 25.0 if (costly or len(students) >= 2) else 0.0,
            "缺劳动力": 30.0 if capable == 0 or (capable == 1 and len(members) >= 4) else 2.0,
            "缺技术": 20.0 if capable else 0.0,
            "缺资金": 15.0,
            "自身发展动力不足": 4.0 if capable else 0.0,
            "因灾": 3.0,
            "交通条件落后": 3.0,
            "缺土地": 2.0,
            "缺水": 1.0,
        }
        pick = {k: w for k, w in weights.items() if w > 0}
        main = _Picker(pick)(rng)
        others: list[str] = []
        n_other = 0 if rng.random() < 0.6 else (1 if rng.random() < 0.75 else 2)
        rest = {k: w for k, w in pick.items() if k != main}
        for _ in range(n_other):
            if not rest:
                break
            cause = _Picker(rest)(rng)
            others.append(cause)
            rest.pop(cause)
        return main, others

    # -- member-level problems (before incomes, which follow who works)

    def _member_problems(self, households: list[HouseholdData]) -> None:
        rng = self.rng

        # Structure first (it removes rows): each household at most one of these.
        multi = [hh for hh in households if len(hh.members) >= 2]
        # Not where the head may be the only ill, disabled or studying member the cause rests on.
        headless_pool = [
            hh
            for hh in multi
            if hh.main_cause not in ("因病", "因残", "因学")
            and not (
                hh.members[0].capable
                and sum(m.capable for m in hh.members) == 1
                and not any(m.is_dibao or m.is_tekun for m in hh.members)
            )
        ]
        for hh in self._pick_households("head_missing", headless_pool, multi, group="structure"):
            # The head's row is gone (died, moved); the household's head fields were never updated.
            hh.members = [m for m in hh.members if m.relation != "户主"]
            hh.size = len(hh.members)
        couples = [hh for hh in households if any(m.relation == "配偶" for m in hh.members)]
        for hh in self._pick_households("head_multiple", couples, couples, group="structure"):
            next(m for m in hh.members if m.relation == "配偶").relation = "户主"
        for hh in self._pick_households("member_count_mismatch", households, households, group="structure"):
            hh.size = max(1, hh.size + (1 if hh.size == 1 or rng.random() < 0.5 else -1))

        all_members = [(hh, m) for hh in households for m in hh.members]
        n_members = len(all_members)

        # IDs: each member gets at most one ID problem.
        for hh, m in self._pick_members("id_invalid", all_members, n_members, group="id"):
            wrong = str((int(m.id_number[-1]) + 1 + rng.randrange(9)) % 10) if m.id_number[-1] != "X" else "1"
            self._set_id(hh, m, m.id_number[:17] + wrong)
        older = [(hh, m) for hh, m in all_members if m.birth.year < 1990]
        for hh, m in self._pick_members("id_old_format", older, n_members, group="id"):
            # The 15-digit form: region, YYMMDD, sequence (no century, no check digit).
            self._set_id(hh, m, m.id_number[:6] + m.id_number[8:14] + m.id_number[14:17])
        # Somebody of the same county, sex and about the same age: a clerk's slip, not a random number.
        taken = self._taken["id"]
        by_kind: dict[tuple[str, str, int], list[tuple[HouseholdData, MemberData]]] = {}
        for hh, m in all_members:
            if id(m) not in taken:
                by_kind.setdefault((m.id_number[:6], m.sex, m.birth.year), []).append((hh, m))

        def twins(hh: HouseholdData, m: MemberData) -> list[MemberData]:
            return [
                o
                for year in range(m.birth.year - 3, m.birth.year + 4)
                for h, o in by_kind.get((m.id_number[:6], m.sex, year), [])
                if h is not hh and id(o) not in taken and o.relation != "户主"
            ]

        # Draw people in random order until enough of them have a twin (checking everyone is slow).
        pool = [(hh, m) for hh, m in all_members if id(m) not in taken]
        rng.shuffle(pool)
        wanted = self._count("id_duplicate", n_members)
        pairs = 0
        for hh, m in pool:
            if pairs == wanted:
                break
            if id(m) in taken or not (source := twins(hh, m)):
                continue
            other = rng.choice(source)
            taken.update((id(m), id(other)))
            self._set_id(hh, m, other.id_number)
            self.manifest["id_duplicate"] += [m.member_no, other.member_no]  # both holders of the number
            pairs += 1

        # Other departments know these people by their right number, so a problem that compares the
        # registry with a list would be blurred by a broken ID: those people and households are left out.
        self._id_members = set(taken)
        self._id_households = {id(hh) for hh, m in all_members if id(m) in taken}

        for key, flag in (
            ("medical_insurance", "has_basic_medical"),
            ("serious_illness_insurance", "has_serious_illness"),
            ("stacked_medical_insurance", "has_stacked_medical"),
        ):
            for _, m in self._pick_members(key, all_members, n_members, group=key):
                setattr(m, flag, False)

        # Households whose causes depend on who is ill, disabled or at school are left out of the
        # problems below that would change that, so they do not contradict their causes by accident;
        # nor is the only worker of a household made unable to work (it would then need 低保, and
        # measures that need a worker).
        def causes(hh: HouseholdData) -> set[str]:
            return {hh.main_cause, *hh.other_causes}

        def sole_worker(hh: HouseholdData, m: MemberData) -> bool:
            return m.capable and sum(o.capable for o in hh.members) == 1

        uncovered = [
            hh
            for hh in households
            if hh.attribute == "低保脱贫户"
            and not any(m.capable for m in hh.members)
            and id(hh) not in self._id_households
        ]
        for hh in self._pick_households("dibao_missing", uncovered, households, group="dibao"):
            hh.attribute, hh.dibao_missing = "一般脱贫户", True
            for m in hh.members:
                m.is_dibao = False

        children = [(hh, m) for hh, m in all_members if 6 <= m.age <= 15]
        for _, m in self._pick_members(
            "school_dropout", [(hh, m) for hh, m in children if "因学" not in causes(hh)], len(children)
        ):
            m.school_status = "非在校生"
            m.education = "小学" if m.age <= 12 else "初中"
        students = [(hh, m) for hh, m in all_members if m.in_school]
        mismatch_pool = [(hh, m) for hh, m in students if 12 <= m.age <= 14] + [
            (hh, m)
            for hh, m in all_members
            if 20 <= m.age <= 30
            and not m.in_school
            and m.relation != "户主"
            and "因学" not in causes(hh)
            and not sole_worker(hh, m)
        ]
        for _, m in self._pick_members("age_school_mismatch", mismatch_pool, len(students)):
            if m.in_school:
                m.school_status = "高中一年级"
            else:
                # Typed into the wrong column: an adult "in primary school"; the school knows nothing of it.
                m.school_status, m.labour_skill, m.work_status, m.work_months = "小学", "无劳动力", "", None
                m.not_at_school = True

        simple = [
            (hh, m)
            for hh, m in all_members
            if not causes(hh) & {"因病", "因残", "因学"}
            and m.relation != "户主"
            and not m.in_school
            and not sole_worker(hh, m)
        ]
        fields = ("education", "school_status", "health", "labour_skill")
        for i, (_, m) in enumerate(self._pick_members("required_missing", simple, n_members)):
            name = fields[i % len(fields)]
            if name == "education" and m.age < 16:
                name = "health"
            if name == "school_status" and not 16 <= m.age <= 23:
                name = "health"
            if name == "labour_skill" and not 16 <= m.age <= 65:
                name = "health"
            setattr(m, name, "")
            if name in ("health", "labour_skill"):
                m.work_status, m.work_months = "", None

        able = [
            (hh, m)
            for hh, m in all_members
            if m.capable and m.health == "健康" and 16 <= m.age <= 59 and not m.in_school and not sole_worker(hh, m)
        ]
        for _, m in self._pick_members("labor_contradiction", able, n_members):
            m.labour_skill, m.work_status, m.work_months = "丧失劳动力", "", None
        workers = [(hh, m) for hh, m in all_members if m.work_status and m.work_months]
        for _, m in self._pick_members("work_inconsistent", workers, n_members):
            m.work_months = Decimal(rng.choice((13, 14, 15, 18, 24))).quantize(ONE_DECIMAL)  # days or years slip in

        kids = [(hh, m) for hh, m in all_members if m.relation in ("之子", "之女")]
        for _, m in self._pick_members("relation_invalid", kids, len(kids)):
            m.relation = "之女" if m.relation == "之子" else "之子"

        elders = [(hh, m) for hh, m in all_members if m.age >= 60]
        for _, m in self._pick_members("deceased_listed", elders, len(elders)):
            m.on_deaths_list = True

        def idle_candidate(m: MemberData) -> bool:
            return (
                m.capable
                and m.health == "健康"
                and 16 <= m.age <= 59
                and not m.in_school
                and id(m) not in self._taken.get("m", set())
            )

        idle_pool = [
            hh
            for hh in households
            if not causes(hh) & {"缺技术", "自身发展动力不足", "缺土地", "因残"}
            and any(map(idle_candidate, hh.members))
        ]
        for hh in self._pick_households("unemployed_no_help", idle_pool, households, group="measures"):
            m = next(m for m in hh.members if idle_candidate(m))
            m.work_status, m.work_months = "", None
            self._taken.setdefault("m", set()).add(id(m))
            hh.no_job_measures = True

        contradiction_pool = []
        for hh in households:
            if hh.members and not any(m.ill for m in hh.members):
                contradiction_pool.append((hh, "因病"))
            elif hh.members and not any(m.disabled for m in hh.members):
                contradiction_pool.append((hh, "因残"))
            elif hh.members and not any(m.in_school for m in hh.members):
                contradiction_pool.append((hh, "因学"))
        pool_hh = [hh for hh, _ in contradiction_pool]
        chosen = {id(hh) for hh in self._pick_households("cause_contradiction", pool_hh, households, group="cause")}
        for hh, cause in contradiction_pool:
            if id(hh) in chosen:
                hh.other_causes = [c for c in hh.other_causes if c != cause]
                hh.main_cause = cause
        # 主要致贫原因 left empty (the other causes stay).
        plain_causes = [hh for hh in households if hh.main_cause in ("缺技术", "缺劳动力", "因灾", "缺水", "缺土地")]
        for hh in self._pick_households("required_missing_cause", plain_causes, households, group="cause"):
            hh.main_cause = ""

    def _set_id(self, hh: HouseholdData, m: MemberData, number: str) -> None:
        if hh.head_id_number == m.id_number and m.relation == "户主":
            hh.head_id_number = number
        m.id_number = number

    # -- incomes

    def _incomes(self, hh: HouseholdData) -> None:
        rng = self.rng
        # Per-capita income is divided by 家庭人口数, which may differ from the members listed.
        size = max(1, len(hh.members), hh.size)
        wage = 0
        for m in hh.members:
            if m.work_status and m.work_months:
                monthly = {
                    "乡（镇）内务工": (1500, 2600),
                    "乡（镇）外县内务工": (1800, 3000),
                    "县外省内务工": (2200, 3600),
                    "省外务工": (2500, 4000),
                }.get(m.work_status, (1400, 2400))
                wage += int(m.work_months) * rng.randint(*monthly)
        able = sum(1 for m in hh.members if m.capable or m.labour_skill == "弱劳动力或半劳动力")
        business = costs = 0
        if rng.random() < 0.85:
            business = rng.randint(1500, 4500) * max(1, able) + rng.randint(0, 2500)
            costs = round(business * rng.uniform(0.25, 0.45))
        prop = rng.randint(200, 1500) if rng.random() < 0.3 else 0
        transfer = rng.randint(50, 400)  # ecological and other subsidies
        for m in hh.members:
            if m.age >= 60:
                transfer += 1416  # basic pension, 118 yuan a month
            if m.is_dibao:
                transfer += 12 * rng.randint(220, 360)
            if m.is_tekun:
                transfer += 12 * rng.randint(600, 750)
            if m.disabled:
                transfer += 12 * 70
            if m.in_school and m.school_status != "学前教育":
                transfer += rng.randint(500, 2500)
        line = float(self._line(hh.exit_year))
        floor_per_head = line * rng.uniform(1.25, 2.2)
        if not hh.dibao_missing and not any(m.is_dibao or m.is_tekun for m in hh.members):
            # Households outside 低保 live above its standard; those below it would have to be on it.
            floor_per_head = max(floor_per_head, self.dibao_standard * rng.uniform(1.05, 1.6))
        floor = floor_per_head * size
        net = wage + business - costs + prop + transfer
        if net < floor:
            # Farming makes up the rest: gross output rises, and its costs with it.
            gap = floor - net
            ratio = costs / business if business else 0.35
            extra = round(gap / (1 - ratio))
            business += extra
            costs += extra - round(gap)
        self._set_incomes(hh, wage, business, costs, prop, transfer)

    def _set_incomes(self, hh: HouseholdData, wage: int, business: int, costs: int, prop: int, transfer: int) -> None:
        hh.wage_income = money(wage)
        hh.business_income = money(business)
        hh.business_costs = money(costs)
        hh.property_income = money(prop)
        hh.transfer_income = money(transfer)
        net = wage + business - costs + prop + transfer
        hh.income_per_capita = money(Decimal(net) / max(1, hh.size))

    def _line(self, year: int) -> Decimal:
        applicable = [amount for y, amount in sorted(self.lines.items()) if y <= year]
        return applicable[-1] if applicable else min(self.lines.values(), default=Decimal("2995"))

    def _income_problems(self, households: list[HouseholdData]) -> None:
        rng = self.rng
        for hh in self._pick_households("income_below_line", households, households, group="income"):
            self._scale_incomes(hh, float(self._line(hh.exit_year)) * rng.uniform(0.55, 0.92))
        # Just above the line: only 低保/特困 households can be that poor without being 应纳未纳.
        covered = [hh for hh in households if any(m.is_dibao or m.is_tekun for m in hh.members)]
        for hh in self._pick_households("return_risk", covered, households, group="income"):
            self._scale_incomes(hh, float(self._line(hh.exit_year)) * rng.uniform(1.01, 1.08))
        farming = [hh for hh in households if hh.business_income and hh.business_costs]
        for hh in self._pick_households("income_inconsistent", farming, households, group="income"):
            # The costs were never entered: the gross output was recorded net (纯收入 unchanged).
            hh.business_income -= hh.business_costs
            hh.business_costs = money(0)

    def _scale_incomes(self, hh: HouseholdData, per_head: float) -> None:
        """Scale every income component so that the per-capita income becomes about `per_head`."""
        target = int(per_head * max(1, hh.size))
        parts = [int(hh.wage_income), int(hh.business_income), int(hh.property_income), int(hh.transfer_income)]
        costs = int(hh.business_costs)
        net = sum(parts) - costs
        factor = target / net if net > 0 else 0.5
        wage, business, prop, transfer = (round(p * factor) for p in parts)
        costs = round(costs * factor)
        if business and not costs:
            costs = 1
        transfer += target - (wage + business - costs + prop + transfer)  # rounding goes to transfers
        if transfer < 0:
            business -= transfer
            transfer = 0
        self._set_incomes(hh, wage, business, costs, prop, transfer)

    # -- houses and relocation

    def _housing(self, households: list[HouseholdData]) -> None:
        rng = self.rng
        for hh in households:
            r = rng.random()
            if r < 0.08:
                # Renovated: the house is safe now; 住建's list keeps the old grade.
                grade = "D级" if rng.random() < 0.4 else "C级"
                hh.house_grade, hh.renovation_status = "B级", "已改造"
                finished = date(rng.randint(2015, 2018), rng.randint(1, 11), rng.randint(1, 28))
                hh.housing_entry = {"grade": grade, "status": "已改造", "finished": finished}
            elif r < 0.084:
                hh.house_grade, hh.renovation_status = "C级", "改造中"
                hh.housing_entry = {"grade": "C级", "status": "改造中", "finished": None}
            elif r < 0.154 and any(m.work_status for m in hh.members):
                hh.is_relocated = True
                hh.relocation_year = int(_Picker({2014: 1, 2015: 2, 2016: 3, 2017: 3, 2018: 1})(rng))
                hh.moved_in = hh.relocation_year < 2018 or rng.random() < 0.7
                hh.house_grade = "A级"
                hh.relocation_site = self._relocation_site(hh)
        plain = [hh for hh in households if hh.renovation_status == "无需改造" and not hh.is_relocated]
        for hh in self._pick_households("dangerous_house", plain, households, group="house"):
            hh.house_grade = "D级" if rng.random() < 0.3 else "C级"
            hh.renovation_status = "未改造"
            hh.housing_entry = {"grade": hh.house_grade, "status": "未改造", "finished": None}
        for hh in self._pick_households("relocation_not_moved_in", plain, households, group="house"):
            hh.is_relocated, hh.relocation_year, hh.moved_in = True, rng.choice((2016, 2017)), False
            hh.house_grade = "B级"
            hh.relocation_site = self._relocation_site(hh)

    def _relocation_site(self, hh: HouseholdData) -> str:
        if self.rng.random() < 0.5:
            return f"{hh.township.name}造福工程集中安置区"
        return f"{hh.county.name}城区造福工程安置小区"

    # -- helpers and assignments

    def _new_helper(self, township: Any, county: Any) -> HelperData:
        rng = self.rng
        r = rng.random()
        county_name = county.name
        if r < 0.4:
            unit = f"{township.name}人民政府"
            position = rng.choice(names.TOWNSHIP_POSITIONS).format(
                head="副镇长" if township.name.endswith("镇") else "副乡长"
            )
            region = county.code[:6]
        elif r < 0.85:
            dept = rng.choice(names.COUNTY_DEPARTMENTS)
            unit = county_name + dept
            position = rng.choice(names.COUNTY_POSITIONS)
            region = county.code[:6]
        elif r < 0.95:
            unit = rng.choice(names.CITY_UNITS)
            position = rng.choice(names.CITY_POSITIONS)
            region = rng.choice(("350102", "350103", "350104", "350105", "350111"))
        else:
            unit = rng.choice(names.ENTERPRISES).format(county=county_name)
            position = rng.choice(names.ENTERPRISE_POSITIONS)
            region = county.code[:6]
        sex = "男" if rng.random() < 0.62 else "女"
        born = self._birth(rng.randint(25, 56))
        name = self._name(self._surname(rng), sex, born)
        return HelperData(
            name=name,
            id_number=self._id_number(region, born, sex),
            work_unit=unit,
            position=position,
            phone=self._phone(),
            township_code=township.code,
        )

    def _helpers(self, households: list[HouseholdData]) -> tuple[list[HelperData], HelperData | None]:
        rng = self.rng
        by_township: dict[str, list[HouseholdData]] = {}
        for hh in households:
            by_township.setdefault(hh.township.code, []).append(hh)
        helpers: list[HelperData] = []
        for hhs in by_township.values():
            pool = list(hhs)
            rng.shuffle(pool)
            i = 0
            while i < len(pool):
                size = rng.choice((3, 4, 4, 5))
                remaining = len(pool) - i
                if remaining - size in (1, 2):
                    # No helper left with one or two households: take them, or leave three.
                    size = remaining if remaining <= HELPER_LIMIT else remaining - 3
                helper = self._new_helper(pool[i].township, pool[i].county)
                helper.households = pool[i : i + size]
                helpers.append(helper)
                i += size

        # The demo helper, chosen first so that no problem below lands on them: a helper of 嵩口镇
        # with a full ordinary load.
        songkou = [h for h in helpers if h.township_code.startswith(SONGKOU_PREFIX)]
        demo_helper = max(
            songkou, key=lambda h: (min(len(h.households), HELPER_LIMIT), -songkou.index(h)), default=None
        )

        # Overloaded helpers take over a colleague's households in the same township.
        by_place: dict[str, list[HelperData]] = {}
        for helper in helpers:
            by_place.setdefault(helper.township_code, []).append(helper)
        mergeable = [h for h in helpers if len(by_place[h.township_code]) >= 2 and h is not demo_helper]
        overloaded = self._pick("helper_overloaded", mergeable, len(helpers), group="helper")
        dropped: set[int] = set()
        merged: set[int] = set()
        for helper in overloaded:
            if id(helper) in dropped:
                continue
            donors = [
                d
                for d in by_place[helper.township_code]
                if d is not helper and d is not demo_helper and id(d) not in dropped and id(d) not in merged
            ]
            donors = [d for d in donors if d not in overloaded] or donors
            if not donors:
                continue
            donor = rng.choice(donors)
            helper.households = helper.households + donor.households
            donor.households = []
            dropped.add(id(donor))
            merged.add(id(helper))
            self.manifest["helper_overloaded"].append(helper.id_number)
        helpers = [h for h in helpers if h.households]

        # A helper who is a registered poor person (a village cadre from an exited household); helpers
        # are tried in random order until enough have such a person in their township.
        flagged = set(self.manifest["helper_overloaded"])
        ordinary = [h for h in helpers if h is not demo_helper and h.id_number not in flagged]
        rng.shuffle(ordinary)
        wanted = self._count("helper_is_poor", len(helpers))
        for helper in ordinary:
            if len(self.manifest["helper_is_poor"]) == wanted:
                break
            local = [
                m
                for hh in households
                if hh.township.code == helper.township_code and id(hh) not in self._id_households
                for m in hh.members
                if 25 <= m.age <= 55 and m.id_number == m.true_id
            ]
            if local:
                person = rng.choice(local)
                helper.name, helper.id_number = person.name, person.id_number
                helper.work_unit, helper.position = helper.households[0].village.name, "村委会委员"
                self.manifest["helper_is_poor"].append(helper.id_number)

        for helper in helpers:
            for hh in helper.households:
                hh.assignments.append((helper, True))
        # About one household in twelve has a second helper (not the first one), within the limit.
        for helpers_here in (by_place[code] for code in by_place):
            usable = [h for h in helpers_here if h.households and len(h.households) < HELPER_LIMIT]
            for helper in helpers_here:
                for hh in list(helper.households):
                    if hh.assignments[0][0] is not helper or rng.random() >= 0.08 or not usable:
                        continue
                    second = rng.choice(usable)
                    if second is not helper and len(second.households) < HELPER_LIMIT:
                        second.households.append(hh)
                        hh.assignments.append((second, False))
        overloaded_households = {id(hh) for h in [*overloaded, demo_helper] if h for hh in h.households}
        no_helper_pool = [hh for hh in households if id(hh) not in overloaded_households]
        for i, hh in enumerate(self._pick_households("no_helper", no_helper_pool, households, group="helpers")):
            first = [h for h, is_first in hh.assignments if is_first]
            for helper in first:
                helper.households.remove(hh)
            if i % 2 == 0:
                # The assignment is gone altogether.
                for helper, _ in hh.assignments:
                    if hh in helper.households:
                        helper.households.remove(hh)
                hh.assignments = []
            else:
                # Somebody helps, but nobody is recorded as the first responsible helper.
                second = [(h, f) for h, f in hh.assignments if not f]
                if not second and first:
                    second = [(first[0], False)]
                    first[0].households.append(hh)
                hh.assignments = second
        helpers = [h for h in helpers if h.households]

        return helpers, demo_helper

    # -- measures

    def _measures(self, hh: HouseholdData) -> None:
        rng = self.rng
        members = hh.members
        dibao = any(m.is_dibao for m in members)
        tekun = any(m.is_tekun for m in members)
        students = [m for m in members if m.in_school]
        idle = any(m.capable and not m.work_status and not m.in_school for m in members)
        wanted: list[str] = []

        def applicable(kind: str) -> bool:
            if kind == "低保兜底":
                return dibao
            if kind == "特困供养":
                return tekun
            if kind == "造福工程搬迁":
                return bool(hh.is_relocated)
            if kind == "危房改造":
                return hh.housing_entry is not None
            if kind == "教育资助":
                return bool(students)
            if kind in JOB_MEASURES:
                return not hh.no_job_measures and any(m.capable or m.labour_skill.startswith("弱") for m in members)
            return True

        for cause in [hh.main_cause, *hh.other_causes]:
            options = [k for k in CAUSE_MEASURES.get(cause, ("产业扶持",)) if applicable(k)]
            if cause == "缺资金":
                wanted.append("小额信贷")  # 应贷尽贷: lend to every household short of capital
            elif options:
                wanted.append(options[0] if rng.random() < 0.6 else rng.choice(options))
        for kind, condition in (
            ("低保兜底", dibao),
            ("特困供养", tekun),
            ("造福工程搬迁", bool(hh.is_relocated)),
            ("危房改造", hh.housing_entry is not None and hh.renovation_status != "未改造"),
            ("教育资助", bool(students)),
            ("健康扶贫", any(m.ill or m.disabled for m in members) and rng.random() < 0.7),
            ("技能培训" if rng.random() < 0.5 else "就业帮扶", idle and not hh.no_job_measures),
            ("产业扶持", any(m.capable for m in members) and rng.random() < 0.55),
            ("小额信贷", any(m.capable for m in members) and rng.random() < 0.06),
            ("生活救助", rng.random() < 0.15),
        ):
            if condition:
                wanted.append(kind)
        if hh.no_job_measures:
            wanted = [k for k in wanted if k not in JOB_MEASURES]
        if not [k for k in wanted if k != "生活救助"]:
            wanted.append("产业扶持" if any(m.capable for m in members) else "资产收益")
        helper = hh.first_helper()
        seen: set[str] = set()
        for kind in wanted:
            if kind in seen:
                continue
            seen.add(kind)
            hh.measures.append(self._measure(hh, kind, helper))
        # Something current: the look-back wants assistance that continues after exit (四(二)).
        if not any(m.status == "实施中" or m.start_date.year == 2018 for m in hh.measures):
            hh.measures.append(self._measure(hh, "产业扶持", helper, year=2018))

    def _measure(self, hh: HouseholdData, kind: str, helper: HelperData | None, year: int | None = None):
        rng = self.rng
        village = hh.village.name.replace("村委会", "村").replace("居委会", "社区")
        if helper and rng.random() < 0.75:
            person = helper.name
        else:
            person = self._name(self._surname(rng), "男" if rng.random() < 0.7 else "女", self._birth(45))
        start_year = year or rng.randint(max(2015, hh.identification_year), 2018)
        start = date(start_year, rng.randint(1, 11), rng.randint(1, 28))
        end: date | None = start + timedelta(days=rng.randint(60, 300))
        status = "已完成"
        project_no = ""
        if kind == "产业扶持":
            if rng.random() < 0.6:
                content = f"扶持种植{rng.choice(names.CROPS)}{rng.randint(1, 6)}亩，发放种苗、化肥补助"
            else:
                content = f"扶持养殖{rng.choice(names.LIVESTOCK)}，发放养殖补助"
            amount = rng.randint(10, 60) * 100
            project_no = f"XM{hh.county.code[:6]}{start_year}{rng.randint(1, 300):04d}"
        elif kind == "就业帮扶":
            content = f"推荐到{rng.choice(names.JOB_PLACES)}务工，发放交通补贴"
            amount = rng.randint(2, 8) * 100
        elif kind == "公益性岗位":
            content = f"安排{village}{rng.choice(names.PUBLIC_JOBS)}公益性岗位"
            amount, end, status = rng.randint(30, 60) * 100, None, "实施中"
        elif kind == "技能培训":
            content = f"参加{rng.choice(names.TRAININGS)}培训"
            amount = rng.randint(3, 15) * 100
        elif kind == "小额信贷":
            loan = rng.choice((10000, 20000, 30000, 50000, 50000))
            content = f"发放扶贫小额信贷{loan // 10000}万元，用于发展{rng.choice(names.CROPS)}种植"
            amount, end = loan, None
            start = date(rng.randint(2016, 2018), rng.randint(1, 12), rng.randint(1, 28))
            due = date(start.year + 3, start.month, start.day)
            status = "实施中"
            hh.loan = {"amount": loan, "start": start, "due": due, "status": "正常"}
        elif kind == "教育资助":
            content = "落实教育扶贫资助，按学期发放补助资金"
            amount, end, status = rng.randint(10, 40) * 100, None, "实施中"
        elif kind == "健康扶贫":
            content = rng.choice(("代缴医疗保险个人缴费，落实医疗叠加保险", "家庭医生签约服务，落实大病救助"))
            amount, end, status = rng.randint(5, 50) * 100, None, "实施中"
        elif kind == "危房改造":
            content = "实施农村危房改造，发放改造补助"
            amount = rng.randint(10, 30) * 1000
            if hh.housing_entry and hh.housing_entry.get("finished"):
                end = hh.housing_entry["finished"]
                start = end - timedelta(days=rng.randint(90, 240))
            else:
                end, status = None, "实施中"
        elif kind == "造福工程搬迁":
            content = f"造福工程搬迁至{hh.relocation_site or '集中安置区'}，发放搬迁补助"
            amount = rng.randint(15, 40) * 1000
            start = date(hh.relocation_year or start_year, rng.randint(1, 10), rng.randint(1, 28))
            end = start + timedelta(days=rng.randint(60, 300)) if hh.moved_in else None
            status = "已完成" if hh.moved_in else "实施中"
        elif kind == "低保兜底":
            content = "纳入农村最低生活保障，按月发放低保金"
            amount, end, status = 12 * rng.randint(220, 360) * len(hh.members), None, "实施中"
        elif kind == "特困供养":
            content = "纳入特困人员分散供养，按月发放供养金"
            amount, end, status = 12 * rng.randint(600, 750), None, "实施中"
        elif kind == "资产收益":
            content = f"扶贫资金入股{village}{rng.choice(names.COOPERATIVES)}，按年分红"
            amount, end, status = rng.randint(3, 10) * 100, None, "实施中"
        elif kind == "光伏扶贫":
            content = "村级光伏扶贫电站收益分红"
            amount, end, status = rng.randint(3, 10) * 100, None, "实施中"
        elif kind == "生活救助":
            content = rng.choice(("春节走访慰问，发放慰问金", "发放大米、食用油等慰问品"))
            amount = rng.randint(2, 10) * 100
            start = date(rng.randint(2016, 2018), rng.choice((1, 2, 9)), rng.randint(1, 28))
            end = start
        else:
            content, amount = "其他帮扶", rng.randint(2, 10) * 100
        if end is not None and end > REFERENCE_DATE:
            end, status = None, "实施中"
        return MeasureData(
            measure_type=kind,
            content=content,
            amount=money(amount),
            responsible_person=person,
            start_date=start,
            end_date=end,
            status=status,
            project_no=project_no,
        )

    def _measure_problems(self, households: list[HouseholdData]) -> None:
        rng = self.rng
        for hh in self._pick_households("no_measure", households, households, group="measures"):
            hh.measures = []
            hh.loan = None
        for i, hh in enumerate(self._pick_households("measure_incomplete", households, households, group="measures")):
            measure = rng.choice(hh.measures)
            if i % 2 == 0:
                measure.responsible_person = ""
            else:
                measure.amount = None
        for hh in self._pick_households("handout_only", households, households, group="measures"):
            helper = hh.first_helper()
            hh.measures = [self._measure(hh, "生活救助", helper) for _ in range(rng.choice((1, 2)))]
            hh.loan = None
        short_of_capital = [
            hh
            for hh in households
            if "缺资金" in (hh.main_cause, *hh.other_causes) and any(m.measure_type == "小额信贷" for m in hh.measures)
        ]
        for hh in self._pick_households("loan_unmet", short_of_capital, households, group="measures"):
            hh.measures = [m for m in hh.measures if m.measure_type != "小额信贷"]
            hh.loan = None
            if not any(m.measure_type == "产业扶持" for m in hh.measures):
                hh.measures.append(self._measure(hh, "产业扶持", hh.first_helper(), year=2018))
        clean_ids = [hh for hh in households if id(hh) not in self._id_households and hh.head is not None]
        for hh in self._pick_households("loan_overdue", clean_ids, households, group="measures"):
            hh.measures = [m for m in hh.measures if m.measure_type != "小额信贷"]
            loan = self._measure(hh, "小额信贷", hh.first_helper())
            start = date(2015, rng.randint(1, 11), rng.randint(1, 28))
            loan.start_date = start
            hh.measures.append(loan)
            hh.loan = {"amount": int(loan.amount), "start": start, "due": date(2018, start.month, start.day)}
            hh.loan["status"] = "逾期"

    # -- visits

    def _visits(self, hh: HouseholdData) -> None:
        rng = self.rng
        helper = hh.first_helper()
        helper_name = helper.name if helper else self._name(self._surname(rng), "男", self._birth(40))
        lon, lat = village_position(hh.division_code)

        def at(day: date, hour_from: int = 8, hour_to: int = 17) -> datetime:
            moment = time(rng.randint(hour_from, hour_to), rng.randint(0, 59), rng.randint(0, 59))
            return datetime.combine(day, moment, tzinfo=TZ)

        def where() -> tuple[Decimal, Decimal]:
            return (
                Decimal(f"{lon + rng.uniform(-0.004, 0.004):.6f}"),
                Decimal(f"{lat + rng.uniform(-0.004, 0.004):.6f}"),
            )

        # Check-ins through the year: the Spring Festival visit and a few more, so that with December's
        # there are at least `checkins_required` in the twelve months before the reference date.
        earlier: set[date] = {date(2018, 2, rng.randint(1, 14))}
        while len(earlier) < self.checkins_required - 1 + rng.choice((0, 0, 1, 2)):
            earlier.add(date(2018, rng.randint(3, 11), rng.randint(1, 28)))
        for day in sorted(earlier):
            kind = "节日慰问" if day.month == 2 else rng.choice(("了解基本情况", "宣传扶贫政策", "落实资金项目"))
            lon_v, lat_v = where()
            hh.visits.append(VisitData(helper, helper_name, at(day), kind, lon_v, lat_v, names.VISIT_CONTENTS[kind]))
        span = (self.visit_end - self.visit_start).days
        day = self.visit_start + timedelta(days=rng.randint(0, max(0, span - 3)))
        kind = rng.choice(("填写扶贫手册", "填写扶贫手册", "了解基本情况", "制定脱贫计划"))
        lon_v, lat_v = where()
        needs = rng.choice(names.NEEDS) if rng.random() < 0.3 else ""
        hh.visits.append(
            VisitData(
                helper,
                helper_name,
                at(day),
                kind,
                lon_v,
                lat_v,
                names.VISIT_CONTENTS[kind],
                poverty_handbook_filled=True,
                assignment_handbook_filled=True,
                needs=needs,
                knows_helper=True,
                satisfaction="满意" if rng.random() < 0.85 else "基本满意",
            )
        )

    def _december(self, hh: HouseholdData) -> VisitData:
        return next(v for v in hh.visits if self.visit_start <= v.visited_at.date() <= self.visit_end)

    def _visit_problems(self, households: list[HouseholdData]) -> None:
        rng = self.rng
        for hh in self._pick_households("no_visit", households, households, group="visits"):
            hh.visits = [v for v in hh.visits if not self.visit_start <= v.visited_at.date() <= self.visit_end]
            if len(hh.visits) < self.checkins_required:
                # Visited in November instead: the household misses December, not its check-ins.
                late = hh.visits[-1]
                moment = time(rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59), tzinfo=TZ)
                day = datetime.combine(date(2018, 11, rng.randint(29, 30)), moment)
                kind = "了解基本情况"
                hh.visits.append(
                    VisitData(
                        late.helper,
                        late.helper_name,
                        day,
                        kind,
                        late.longitude,
                        late.latitude,
                        names.VISIT_CONTENTS[kind],
                    )
                )
        for hh in self._pick_households("checkin_low", households, households, group="visits"):
            december = self._december(hh)
            keep = rng.randint(0, self.checkins_required - 2)
            hh.visits = [v for v in hh.visits if v is not december][:keep] + [december]
        for hh in self._pick_households("handbook_unfilled", households, households, group="visits"):
            visit = self._december(hh)
            if rng.random() < 0.5:
                visit.poverty_handbook_filled = False
            else:
                visit.assignment_handbook_filled = False
        for hh in self._pick_households("helper_unknown", households, households, group="visits"):
            self._december(hh).knows_helper = False
        for hh in self._pick_households("dissatisfied", households, households, group="visits"):
            visit = self._december(hh)
            visit.satisfaction = "不满意"
            visit.needs = rng.choice(names.DISSATISFIED_NEEDS)

    # -- 一户一档 checks

    def _archive_checks(self, households: list[HouseholdData]) -> None:
        rng = self.rng
        items = self.archive_items
        officers: dict[str, str] = {}  # township code → the officer who checks its archives
        for hh in households:
            if rng.random() >= ARCHIVE_CHECKED_SHARE:
                continue
            township = hh.township.code
            if township not in officers:
                officers[township] = self._name(
                    self._surname(rng), rng.choice("男女"), self._birth(rng.randint(28, 50))
                )
            checker = officers[township]
            day = date(2018, rng.choice((10, 11, 11, 12)), rng.randint(1, 28))
            if rng.random() < ARCHIVE_RECHECKED_SHARE:
                lacking = rng.sample(items, rng.randint(1, 2))
                earlier = ArchiveCheckData(
                    day - timedelta(days=rng.randint(20, 60)),
                    checker,
                    [item for item in items if item not in lacking],
                    "已通知村里补齐：" + "、".join(lacking),
                )
                hh.archive_checks.append(earlier)
            hh.archive_checks.append(ArchiveCheckData(day, checker, list(items)))
        checked = [hh for hh in households if hh.archive_checks]
        for hh in self._pick_households("archive_incomplete", checked, households):
            latest = hh.archive_checks[-1]
            lacking = set(rng.sample(items, rng.choice((1, 1, 1, 2, 2, 3))))
            latest.present_items = [item for item in items if item not in lacking]
            latest.note = rng.choice(("", "", "材料正在补办", "原件在乡镇，村里未存档", "户主外出，申请书待补签"))

    # -- department lists

    def _lists(self, households: list[HouseholdData]) -> list[ListEntry]:
        rng = self.rng
        entries: dict[tuple[str, str], ListEntry] = {}

        def add(kind: str, hh: HouseholdData, m: MemberData, **values: Any) -> None:
            key = (kind, m.true_id)
            if key not in entries:  # one entry per person and list, as the departments keep them
                entries[key] = ListEntry(kind=kind, id_number=m.true_id, name=m.name, division_code=hh.division_code)
                for name, value in values.items():
                    setattr(entries[key], name, value)

        not_on_list = {
            id(hh)
            for hh in self._pick_households(
                "dibao_not_on_list",
                [hh for hh in households if any(m.is_dibao for m in hh.members) and id(hh) not in self._id_households],
                households,
                group="dibao",
            )
        }
        extra_dibao = {
            id(hh)
            for hh in self._pick_households(
                "dibao_not_in_registry",
                [
                    hh
                    for hh in households
                    if hh.members
                    and not any(m.is_dibao or m.is_tekun for m in hh.members)
                    and id(hh) not in self._id_households
                ],
                households,
                group="dibao",
            )
        }
        tekun_households = [hh for hh in households if any(m.is_tekun for m in hh.members)]
        off_tekun_list = {
            id(hh)
            for hh in self._pick_households(
                "tekun_mismatch",
                [hh for hh in tekun_households if id(hh) not in self._id_households],
                tekun_households,
                group="tekun",
            )
        }
        edu_pool = [(hh, m) for hh in households for m in hh.members if m.in_school and not m.not_at_school]
        no_subsidy = {id(m) for _, m in self._pick_members("edu_subsidy_missing", edu_pool, len(edu_pool), "edu")}

        for hh in households:
            town = hh.township.name
            for m in hh.members:
                if m.status != "正常":
                    continue
                if (m.is_dibao and id(hh) not in not_on_list) or id(hh) in extra_dibao:
                    since = date(rng.randint(2014, 2018), rng.randint(1, 12), 1)
                    per_month = rng.randint(220, 360)
                    category = rng.choice(("一类", "二类", "三类"))
                    add(
                        "dibao",
                        hh,
                        m,
                        category=category,
                        amount=money(per_month),
                        start_date=since,
                        attributes={
                            "低保类别": category,
                            "保障金额（元/月）": per_month,
                            "起始日期": since.isoformat(),
                        },
                    )
                if m.is_tekun and id(hh) not in off_tekun_list:
                    way = "分散供养" if rng.random() < 0.85 else "集中供养"
                    add("tekun", hh, m, category=way, attributes={"供养方式": way})
                if m.has_basic_medical:
                    add("medical", hh, m, year=2018, status="正常", attributes={"参保年度": 2018, "参保状态": "正常"})
                if m.has_serious_illness:
                    add("serious_illness", hh, m, year=2018, attributes={"参保年度": 2018})
                if m.has_stacked_medical:
                    add("stacked_medical", hh, m, year=2018, attributes={"参保年度": 2018})
                if m.disabled:
                    grade = rng.choice(("一级", "二级", "三级", "四级"))
                    add(
                        "disabled",
                        hh,
                        m,
                        category=m.disability_type,
                        attributes={"残疾类别": m.disability_type, "残疾等级": grade},
                    )
                if m.in_school and not m.not_at_school:
                    school, stage, grade = self._school(hh, m)
                    add("students", hh, m, category=stage, attributes={"学校": school, "年级": grade, "学段": stage})
                    if id(m) not in no_subsidy:
                        program = {
                            "学前": "学前教育幼儿资助",
                            "小学": "义务教育家庭经济困难学生生活补助",
                            "初中": "义务教育家庭经济困难学生生活补助",
                            "高中": "普通高中国家助学金",
                            "中职": "中职国家助学金",
                            "高职": "雨露计划职业教育补助",
                            "本科": "高校家庭经济困难新生入学资助",
                        }.get(stage, "教育扶贫资助")
                        paid = date(2018, rng.randint(9, 11), rng.randint(1, 28))
                        amount = rng.choice((500, 625, 1000, 1250, 1500, 3000))
                        add(
                            "edu_subsidy",
                            hh,
                            m,
                            category=program,
                            amount=money(amount),
                            start_date=paid,
                            attributes={"资助项目": program, "金额（元）": amount, "发放日期": paid.isoformat()},
                        )
                if m.on_deaths_list:
                    died = date(2018, rng.randint(1, 11), rng.randint(1, 28))
                    add("deaths", hh, m, start_date=died, attributes={"死亡日期": died.isoformat()})
            head = hh.head or (hh.members[0] if hh.members else None)
            if head is None:
                continue
            if hh.loan:
                loan = hh.loan
                add(
                    "loans",
                    hh,
                    head,
                    amount=money(loan["amount"]),
                    start_date=loan["start"],
                    end_date=loan["due"],
                    status=loan["status"],
                    attributes={
                        "贷款金额（元）": loan["amount"],
                        "放款日期": loan["start"].isoformat(),
                        "到期日期": loan["due"].isoformat(),
                        "贷款状态": loan["status"],
                    },
                )
            if hh.housing_entry:
                entry = hh.housing_entry
                finished = entry.get("finished")
                add(
                    "housing",
                    hh,
                    head,
                    category=entry["grade"],
                    status=entry["status"],
                    start_date=finished,
                    attributes={
                        "鉴定等级": entry["grade"],
                        "改造状态": entry["status"],
                        "竣工日期": finished.isoformat() if finished else "",
                    },
                )
            if hh.is_relocated:
                moved = date(hh.relocation_year, rng.randint(6, 12), rng.randint(1, 28)) if hh.moved_in else None
                if moved and moved > REFERENCE_DATE:
                    moved = REFERENCE_DATE
                add(
                    "relocation",
                    hh,
                    head,
                    year=hh.relocation_year,
                    status="是" if hh.moved_in else "否",
                    start_date=moved,
                    attributes={
                        "搬迁年度": hh.relocation_year,
                        "安置点": hh.relocation_site or f"{town}造福工程集中安置区",
                        "是否入住": "是" if hh.moved_in else "否",
                        "入住日期": moved.isoformat() if moved else "",
                    },
                )
        # The deaths list covers everybody in the county, most of them not in the registry.
        for i in range(max(1, len(households) // 100)):
            hh = households[rng.randrange(len(households))]
            sex = "男" if i % 2 else "女"
            born = self._birth(rng.randint(65, 95))
            number = self._id_number(hh.division_code[:6], born, sex)
            died = date(2018, rng.randint(1, 11), rng.randint(1, 28))
            key = ("deaths", number)
            entries[key] = ListEntry(
                kind="deaths",
                id_number=number,
                name=self._name(self._surname(rng), sex, born),
                division_code="",
                start_date=died,
                attributes={"死亡日期": died.isoformat()},
            )
        return list(entries.values())

    def _school(self, hh: HouseholdData, m: MemberData) -> tuple[str, str, str]:
        """School, stage and grade as the education bureau knows them (the truth, whatever the registry says)."""
        age = m.age
        town = hh.township.name
        county = hh.county.name
        status = m.school_status
        if status == "学前教育":
            return f"{town}中心幼儿园", "学前", "大班" if age >= 5 else "中班"
        if status == "小学" or age <= 11:
            return f"{town}中心小学", "小学", f"{'一二三四五六'[max(0, min(5, age - 6))]}年级"
        if status in codes.JUNIOR_GRADES or age <= 14:
            return f"{town}中学", "初中", ("七年级", "八年级", "九年级")[max(0, min(2, age - 12))]
        if status.startswith("高中"):
            return f"{county}第一中学", "高中", status.replace("高中", "高")
        if status.startswith("中职"):
            return f"{county}职业中专学校", "中职", status.replace("中职", "")
        if status.startswith("高职"):
            return "福建船政交通职业学院", "高职", status.replace("高职", "")
        return self.rng.choice(("福州大学", "福建师范大学", "闽江学院", "福建农林大学")), "本科", "在读"

    # -- the national snapshot

    def _snapshot(
        self, households: list[HouseholdData], snapshot_only: list[HouseholdData]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        missing = {
            id(hh)
            for hh in self._pick_households("national_missing_in_snapshot", households, households, group="snapshot")
        }
        rows: list[dict[str, Any]] = []
        member_rows: list[dict[str, Any]] = []
        index: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        for hh in households + snapshot_only:
            if id(hh) in missing:
                continue
            data = household_values(hh)
            members = [member_values(m) for m in hh.members]
            rows.append({"household_no": hh.household_no, "division_code": hh.division_code, "data": data})
            for m, values in zip(hh.members, members, strict=True):
                member_rows.append(
                    {
                        "household_no": hh.household_no,
                        "member_no": m.member_no,
                        "id_number": m.id_number,
                        "division_code": hh.division_code,
                        "data": values,
                    }
                )
            index[id(hh)] = (data, members)

        # The registry was corrected after the export, or the export was never updated: one field differs.
        pool = [hh for hh in households if id(hh) in index and hh.members]
        for hh in self._pick_households("national_mismatch", pool, households, group="snapshot"):
            data, members = index[id(hh)]
            variant = rng.randrange(6)
            if variant == 0:
                data["income_per_capita"] = str(money(hh.income_per_capita * Decimal(rng.choice(("0.85", "0.9")))))
            elif variant == 1:
                data["main_cause"] = next(c for c in ("缺资金", "缺技术", "因病") if c != hh.main_cause)
            elif variant == 2:
                data["attribute"] = "低保脱贫户" if hh.attribute == "一般脱贫户" else "一般脱贫户"
            elif variant == 3:
                data["phone"] = self._phone()
            elif variant == 4:
                values = rng.choice(members)
                values["health"] = "长期慢性病" if values["health"] == "健康" else "健康"
            else:
                values = rng.choice(members)
                values["labour_skill"] = (
                    "丧失劳动力" if values["labour_skill"] != "丧失劳动力" else "弱劳动力或半劳动力"
                )
        return rows, member_rows


HOUSEHOLD_FIELDS = (
    "household_no",
    "division_code",
    "head_name",
    "head_id_number",
    "size",
    "attribute",
    "exit_status",
    "exit_year",
    "identification_standard",
    "identification_year",
    "main_cause",
    "other_causes",
    "income_per_capita",
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "business_costs",
    "house_grade",
    "house_area",
    "renovation_status",
    "is_relocated",
    "relocation_year",
    "moved_in",
    "safe_water",
    "has_electricity",
    "has_sanitary_toilet",
    "phone",
)
MEMBER_FIELDS = (
    "member_no",
    "name",
    "sex",
    "id_number",
    "relation",
    "ethnicity",
    "political_status",
    "education",
    "school_status",
    "health",
    "disability_type",
    "labour_skill",
    "work_status",
    "work_months",
    "has_basic_medical",
    "has_serious_illness",
    "has_stacked_medical",
    "has_employee_medical",
    "is_dibao",
    "is_tekun",
    "has_pension",
    "status",
    "phone",
)


def _json_value(value: Any) -> Any:
    """Stored values as JSON: labels and text as strings, decimals as strings (as DjangoJSONEncoder does)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return list(value)
    return value


def household_values(hh: HouseholdData) -> dict[str, Any]:
    return {name: _json_value(getattr(hh, name)) for name in HOUSEHOLD_FIELDS}


def member_values(m: MemberData) -> dict[str, Any]:
    return {name: _json_value(getattr(m, name)) for name in MEMBER_FIELDS}
