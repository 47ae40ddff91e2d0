"""Every rule: one household that trips it and one (a near miss where that means something) that does
not. Both are built from `clean_household()`, which passes the whole catalogue (tested below with
every list loaded and a national snapshot equal to the registry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from lookback.campaigns.models import Campaign
from lookback.checks.catalogue import all_rules
from lookback.checks.engine import run_checks
from lookback.checks.models import Finding, RuleRunStat
from lookback.divisions.models import Division
from lookback.ledger.models import Problem, ReportState, Source, State, TownshipReport
from lookback.registry.models import Assignment, DeptListEntry, Measure, NationalHousehold, NationalMember, Visit
from tests import factories as f
from tests.checks.builders import Clean, clean_household, list_entry, snapshot_of

ALL_LISTS = (
    "dibao",
    "tekun",
    "medical",
    "serious_illness",
    "stacked_medical",
    "students",
    "edu_subsidy",
    "housing",
    "disabled",
    "deaths",
    "employment",
    "public_jobs",
    "relocation",
    "loans",
)


def child(clean: Clean, born: dt.date, **fields) -> None:
    defaults = {
        "name": "王小明",
        "sex": "男",
        "relation": "之子",
        "id_number": f.id_number(clean.household.division_code[:6], born),
        "education": "小学",
        "school_status": "小学",
        "work_status": "",
        "work_months": None,
        "labour_skill": "无劳动力",
    }
    defaults.update(fields)
    return clean.add_member(**defaults)


def head_on(kind: str, **fields) -> Callable[[Clean], None]:
    return lambda c: list_entry(kind, c.head.id_number, name=c.head.name, **fields)


def both(*steps: Callable[[Clean], object]) -> Callable[[Clean], None]:
    def run(c: Clean) -> None:
        for step in steps:
            step(c)

    return run


def head(**fields) -> Callable[[Clean], None]:
    return lambda c: c.update_head(**fields)


def hh(**fields) -> Callable[[Clean], None]:
    return lambda c: c.update(**fields)


def no_measures(c: Clean) -> None:
    Measure.objects.filter(household=c.household).delete()


def only_visits(*days: dt.date) -> Callable[[Clean], None]:
    def run(c: Clean) -> None:
        Visit.objects.filter(household=c.household).delete()
        for day in days:
            c.add_visit(day)

    return run


def national_household(**data) -> Callable[[Clean], None]:
    def run(c: Clean) -> None:
        row = NationalHousehold.objects.get(household_no=c.household.household_no)
        row.data = {**row.data, **data}
        row.save()

    return run


def national_member(**data) -> Callable[[Clean], None]:
    def run(c: Clean) -> None:
        row = NationalMember.objects.get(id_number=c.head.id_number, household_no=c.household.household_no)
        member_no = data.pop("member_no", None)
        if member_no is not None:
            row.member_no = member_no
        row.data = {**row.data, **data}
        row.save()

    return run


def bad_id(body17: str, check: str | None = None) -> Callable[[Clean], None]:
    from stdnum.cn import ric

    return head(id_number=body17 + (check if check is not None else ric.calc_check_digit(body17 + "0")))


def wrong_check(body17: str) -> str:
    from stdnum.cn import ric

    return "0" if ric.calc_check_digit(body17 + "0") != "0" else "1"


def overload(extra: int) -> Callable[[Clean], None]:
    def run(c: Clean) -> None:
        for _ in range(extra):
            other = f.make_household(c.household.division_code)
            f.make_member(other)
            f.assign(c.helper, other)

    return run


# --- 二(一): the procedure rules read the ledger (they judge as of the run's day, see ledger/check_rules.py)


def township_of(c: Clean) -> str:
    return c.household.division_code[:9] + "000"


def elsewhere(c: Clean) -> None:
    """Move the household to another township (both households start in 嵩口镇; the rules judge townships)."""
    village = f.first_village(f.MINQING)
    c.update(village=village, division_code=village.code)


def ledger_problem(c: Clean, *, overdue_by: int, state: str = State.IN_PROGRESS, **fields) -> Problem:
    """A problem at the household's village whose deadline passed `overdue_by` days before today."""
    today = timezone.localdate()
    village = Division.objects.get(code=c.household.division_code)
    defaults = {
        "campaign": Campaign.objects.get(code="fz2018"),
        "source": Source.SELF_CHECK,
        "dimension": 2,
        "description": "未落实帮扶措施",
        "division": village,
        "division_code": village.code,
        "household": c.household,
        "state": state,
        "found_on": today - dt.timedelta(days=overdue_by + 30),
        "deadline": today - dt.timedelta(days=overdue_by),
        "responsible_unit": "嵩口镇人民政府",
    }
    defaults.update(fields)
    return Problem.objects.create(**defaults)


def report(c: Clean, first_submitted: dt.datetime | None, state: str = ReportState.SUBMITTED) -> TownshipReport:
    """The township's self-check report, first submitted at this local time (None: still a draft)."""
    township = Division.objects.get(code=township_of(c))
    at = dt.datetime.combine(first_submitted, dt.time(10, 0)) if type(first_submitted) is dt.date else first_submitted
    at = timezone.make_aware(at) if at else None
    return TownshipReport.objects.create(
        campaign=Campaign.objects.get(code="fz2018"),
        township=township,
        division_code=township.code,
        state=state if at else ReportState.DRAFT,
        basic_situation="基本情况",
        first_submitted_at=at,
        submitted_at=at,
    )


def on_time(c: Clean) -> None:
    report(c, dt.datetime(2019, 1, 10, 23, 30))  # the last evening before the deadline passes


@dataclass
class Case:
    code: str
    trip: Callable[[Clean], object]
    near: Callable[[Clean], object] | None = None
    variant: str = ""
    lists: tuple[str, ...] = ()
    snapshot: bool = False
    # For subjects that are not the household: the subject key to expect from the tripped one.
    subject: Callable[[Clean], str] | None = None

    @property
    def id(self) -> str:
        return f"{self.code}{'-' + self.variant if self.variant else ''}"


D = dt.date
CASES = [
    # 二(一)
    Case(
        "R1-01",
        both(elsewhere, lambda c: ledger_problem(c, overdue_by=16)),
        both(
            lambda c: ledger_problem(c, overdue_by=15),
            lambda c: ledger_problem(c, overdue_by=40, state=State.AWAITING),
            lambda c: ledger_problem(c, overdue_by=40, state=State.CLOSED),
        ),
        subject=township_of,
    ),
    Case(
        "R1-01",
        both(elsewhere, lambda c: ledger_problem(c, overdue_by=100, state=State.OPEN, responsible_unit="")),
        lambda c: ledger_problem(c, overdue_by=100, source=Source.RULE, rule_code="R1-02", subject_key="x"),
        "own-problems",
        subject=township_of,
    ),
    Case("R1-02", elsewhere, on_time, subject=township_of),
    Case(
        "R1-02",
        both(elsewhere, lambda c: report(c, D(2019, 1, 11))),
        lambda c: report(c, D(2019, 1, 2), state=ReportState.RETURNED),
        "submitted-late",
        subject=township_of,
    ),
    Case("R1-02", both(elsewhere, lambda c: report(c, None)), on_time, "draft", subject=township_of),
    # 二(二)
    Case("R2-01", hh(income_per_capita=Decimal("2000")), hh(income_per_capita=Decimal("2952"))),
    Case(
        "R2-01",
        hh(income_per_capita=Decimal("2990"), exit_year=2018),
        hh(exit_status="未脱贫", income_per_capita=1),
        "2018",
    ),
    Case("R2-02", hh(income_per_capita=Decimal("3000")), hh(income_per_capita=Decimal("3300")), "near-line"),
    Case("R2-02", hh(exit_status="返贫"), variant="returned"),
    Case("R2-03", head(has_basic_medical=False), head(has_basic_medical=False, has_employee_medical=True)),
    Case("R2-03", head(has_basic_medical=None), both(head(has_basic_medical=None), head_on("medical")), "listed"),
    Case("R2-04", head(has_serious_illness=False), head(has_serious_illness=False, has_employee_medical=True)),
    Case("R2-05", head(has_stacked_medical=None), both(head(has_stacked_medical=None), head_on("stacked_medical"))),
    Case("R2-06", lambda c: child(c, D(2008, 5, 1), school_status="非在校生"), lambda c: child(c, D(2008, 5, 1))),
    Case(
        "R2-06",
        lambda c: child(c, D(2003, 1, 1), school_status=""),
        lambda c: child(c, D(2002, 12, 31), school_status=""),
        "age-edge",
    ),
    Case(
        "R2-07",
        lambda c: child(c, D(2012, 5, 1), school_status="学前教育"),
        lambda c: list_entry("edu_subsidy", child(c, D(2010, 5, 1)).id_number),
        lists=("edu_subsidy",),
    ),
    Case("R2-08", hh(house_grade="C级", renovation_status="未改造"), hh(house_grade="D级", renovation_status="已改造")),
    Case(
        "R2-08",
        head_on("housing", category="D级", status="改造中"),
        head_on("housing", category="D级", status="已改造"),
        "list",
    ),
    Case(
        "R2-09",
        hh(is_relocated=True, relocation_year=2016, moved_in=False),
        hh(is_relocated=True, relocation_year=2015, moved_in=False),
    ),
    Case("R2-09", head_on("relocation", year=2017, status="否"), head_on("relocation", year=2017, status="是"), "list"),
    Case(
        "R2-10",
        both(hh(is_relocated=True, relocation_year=2015, moved_in=True, income_per_capita=4000), head(work_status="")),
        both(
            hh(is_relocated=True, relocation_year=2015, moved_in=True, income_per_capita=4000),
            head(work_status=""),
            head_on("public_jobs"),
        ),
    ),
    Case("R2-11", head(is_dibao=True), both(head(is_dibao=True), head_on("dibao")), lists=("dibao",)),
    Case("R2-11", head_on("dibao"), variant="not-flagged"),
    Case("R2-12", hh(income_per_capita=Decimal("5000")), hh(income_per_capita=Decimal("5000"), attribute="低保脱贫户")),
    Case(
        "R2-12", head(labour_skill="丧失劳动力"), both(head(labour_skill="丧失劳动力"), head_on("dibao")), "no-labour"
    ),
    Case("R2-13", head(is_tekun=True), both(head(is_tekun=True), head_on("tekun")), lists=("tekun",)),
    Case(
        "R2-14",
        both(
            head(work_status=""),
            lambda c: Measure.objects.filter(household=c.household).update(measure_type="产业扶持"),
        ),
        head(work_status=""),
    ),
    Case(
        "R2-14",
        both(head(work_status=""), no_measures),
        both(head(work_status=""), no_measures, head_on("employment")),
        "listed",
    ),
    Case(
        "R2-15", both(head(labour_skill="丧失劳动力"), head_on("public_jobs", category="保洁")), head_on("public_jobs")
    ),
    Case(
        "R2-16",
        hh(main_cause="缺资金"),
        both(hh(main_cause="缺资金"), lambda c: c.add_measure(measure_type="小额信贷")),
    ),
    Case("R2-16", hh(other_causes=["因病", "缺资金"]), hh(other_causes=["因病"]), "other-cause"),
    Case(
        "R2-16",
        lambda c: c.add_visit(D(2018, 12, 20), needs="想申请贷款扩大养殖"),
        both(lambda c: c.add_visit(D(2018, 12, 20), needs="想申请贷款"), head_on("loans")),
        "need",
    ),
    Case(
        "R2-17",
        head_on("loans", amount=50000, status="正常", end_date=D(2018, 6, 30)),
        head_on("loans", amount=50000, status="正常", end_date=D(2019, 6, 30)),
    ),
    Case(
        "R2-17",
        head_on("loans", amount=30000, status="逾期", end_date=D(2019, 6, 30)),
        head_on("loans", amount=30000, status="已结清", end_date=D(2018, 6, 30)),
        "overdue",
    ),
    # 二(三)
    Case(
        "R3-01",
        lambda c: bad_id("35012519700501001", check=wrong_check("35012519700501001"))(c),
        bad_id("35012519700501002"),
    ),
    Case("R3-01", bad_id("35012519700231001"), variant="date"),
    Case("R3-01", bad_id("99999919700501001"), variant="region"),
    Case("R3-01", head(id_number="3501251970050100"), variant="length"),
    Case("R3-01", bad_id("3501251970050A001"[:17]), variant="letters"),
    Case("R3-02", head(id_number="350125700501001")),
    Case(
        "R3-03",
        lambda c: c.add_member(id_number=c.head.id_number),
        lambda c: c.add_member(id_number=c.head.id_number, status="死亡"),
    ),
    Case("R3-03", lambda c: f.make_member(f.make_household(), id_number=c.head.id_number), variant="across"),
    Case("R3-04", head(education=""), lambda c: child(c, D(2016, 1, 1), education="", school_status="学前教育")),
    Case("R3-04", head(health=""), variant="health"),
    Case(
        "R3-04",
        lambda c: child(c, D(2000, 1, 1), school_status="", education="高中"),
        lambda c: child(c, D(1990, 1, 1), school_status="", education="高中"),
        "school",
    ),
    Case("R3-04", head(labour_skill=""), lambda c: child(c, D(2010, 1, 1), labour_skill=""), "skill"),
    Case("R3-05", hh(main_cause="")),
    Case("R3-05", hh(income_per_capita=None), variant="income"),
    Case("R3-06", hh(attribute="一般户")),
    Case("R3-06", head(relation="儿子"), variant="member"),
    Case("R3-07", lambda c: c.add_member(relation="之子", sex="女"), lambda c: c.add_member(relation="之女", sex="女")),
    Case("R3-08", lambda c: c.add_member(relation="配偶", sex="男"), lambda c: c.add_member(relation="配偶", sex="女")),
    Case("R3-09", head(relation="之子")),
    Case("R3-09", both(head(status="死亡"), lambda c: c.add_member(relation="配偶")), variant="deceased"),
    Case("R3-10", lambda c: c.add_member(relation="户主"), lambda c: c.add_member(relation="户主", status="嫁出")),
    Case("R3-11", hh(size=3), lambda c: c.add_member(status="死亡")),
    Case(
        "R3-12",
        lambda c: child(c, D(2006, 6, 1), school_status="高中一年级"),
        lambda c: child(c, D(2002, 6, 1), school_status="高中一年级"),
    ),
    Case("R3-12", lambda c: child(c, D(1993, 6, 1), school_status="小学"), variant="adult-primary"),
    Case(
        "R3-13",
        head_on("deaths", start_date=D(2018, 8, 1)),
        lambda c: list_entry("deaths", c.add_member(status="死亡").id_number),
    ),
    Case(
        "R3-14", national_household(head_name="王建国"), national_household(income_per_capita="9000.00"), snapshot=True
    ),
    Case(
        "R3-14",
        national_household(income_per_capita=12000),
        national_household(income_per_capita=9000.2),
        "number",
        snapshot=True,
    ),
    Case(
        "R3-14",
        lambda c: NationalHousehold.objects.filter(household_no=c.household.household_no).update(
            division_code=f.first_village(f.MINQING).code
        ),
        variant="place",
        snapshot=True,
    ),
    Case(
        "R3-14",
        national_household(phone="13900000000"),
        national_household(phone="13805912345"),
        "phone",
        snapshot=True,
    ),
    Case("R3-15", national_member(sex="女"), national_member(extra_column="x"), snapshot=True),
    Case("R3-15", national_member(work_months="9.5"), national_member(work_months="10.0"), "months", snapshot=True),
    Case("R3-15", national_member(is_dibao=True), national_member(is_dibao="否"), "bool", snapshot=True),
    Case(
        "R3-15",
        national_member(member_no="", labour_skill="无劳动力"),
        national_member(member_no=""),
        "by-id",
        snapshot=True,
    ),
    Case(
        "R3-16",
        lambda c: NationalHousehold.objects.filter(household_no=c.household.household_no).delete(),
        snapshot=True,
    ),
    Case(
        "R3-17",
        lambda c: NationalHousehold.objects.create(
            snapshot=NationalHousehold.objects.first().snapshot,
            household_no="X0001",
            division_code=c.household.division_code,
            data={"head_name": "张三"},
        ),
        snapshot=True,
        subject=lambda c: "NX0001",
    ),
    Case(
        "R3-18",
        head_on("students", category="高中"),
        lambda c: list_entry("students", child(c, D(2010, 1, 1)).id_number),
    ),
    Case("R3-18", lambda c: child(c, D(2010, 1, 1), school_status="七年级"), variant="not-listed", lists=("students",)),
    Case("R3-19", head_on("disabled", category="肢体"), both(head(health="残疾"), head_on("disabled"))),
    Case("R3-19", head(health="残疾,长期慢性病"), variant="not-listed", lists=("disabled",)),
    Case("R3-20", hh(main_cause="因病"), both(hh(main_cause="因病"), head(health="长期慢性病"))),
    Case(
        "R3-20",
        hh(main_cause="因学"),
        both(hh(main_cause="因学"), lambda c: child(c, D(2004, 1, 1), school_status="高中二年级")),
        "study",
    ),
    Case("R3-20", hh(main_cause="因残"), both(hh(main_cause="因残"), head(health="残疾")), "disability"),
    Case("R3-21", head(labour_skill="无劳动力"), head(labour_skill="无劳动力", health="患有大病")),
    Case("R3-22", hh(business_income=2000), hh(business_income=2000, business_costs=500)),
    Case("R3-23", hh(income_per_capita=0), hh(income_per_capita=100000)),
    Case("R3-23", hh(income_per_capita=150000), variant="high"),
    Case("R3-24", both(head(work_status="")), both(head(work_status=""), hh(wage_income=0))),
    Case("R3-25", hh(wage_income=None), hh(wage_income=100)),
    Case("R3-26", head(work_months=Decimal("13")), head(work_months=Decimal("12"))),
    Case(
        "R3-27",
        lambda c: c.add_visit(D(2018, 12, 20), poverty_handbook_filled=False),
        both(
            lambda c: c.add_visit(D(2018, 12, 1), assignment_handbook_filled=False),
            lambda c: c.add_visit(D(2019, 1, 5), poverty_handbook_filled=False),
        ),
    ),
    Case(
        "R3-28",
        lambda c: c.add_archive_check(D(2018, 11, 20), missing=("民主评议记录", "退出公示公告")),
        both(
            lambda c: c.add_archive_check(D(2018, 11, 20), missing=("民主评议记录",)),
            lambda c: c.add_archive_check(D(2018, 12, 10)),
        ),
    ),
    # 二(四)
    Case("R4-01", no_measures),
    Case("R4-02", hh(main_cause="因病"), both(hh(main_cause="因病"), lambda c: c.add_measure(measure_type="健康扶贫"))),
    Case("R4-03", lambda c: c.add_measure(responsible_person=""), lambda c: c.add_measure(amount=0)),
    Case("R4-03", lambda c: c.add_measure(amount=None), variant="amount"),
    Case(
        "R4-04",
        both(no_measures, lambda c: c.add_measure(measure_type="生活救助")),
        lambda c: c.add_measure(measure_type="生活救助"),
    ),
    Case(
        "R4-05",
        both(no_measures, lambda c: c.add_measure(start_date=D(2016, 3, 1), end_date=D(2017, 6, 30), status="已完成")),
        lambda c: c.add_measure(start_date=D(2016, 3, 1), end_date=D(2017, 6, 30), status="已完成"),
    ),
    # 二(五)
    Case("R5-01", lambda c: Assignment.objects.filter(household=c.household).delete()),
    Case(
        "R5-01", lambda c: Assignment.objects.filter(household=c.household).update(is_first=False), variant="not-first"
    ),
    Case(
        "R5-02",
        lambda c: type(c.helper).objects.filter(pk=c.helper.pk).update(id_number=c.head.id_number),
        subject=lambda c: str(c.helper.pk),
    ),
    Case("R5-03", overload(5), overload(4), subject=lambda c: str(c.helper.pk)),
    Case(
        "R5-04",
        only_visits(D(2018, 3, 5), D(2018, 6, 5), D(2018, 9, 5), D(2018, 11, 30)),
        only_visits(D(2018, 3, 5), D(2018, 6, 5), D(2018, 9, 5), dt.datetime(2018, 12, 31, 23, 30)),
    ),
    Case(
        "R5-05",
        only_visits(D(2017, 3, 5), D(2017, 6, 5), D(2017, 9, 5), D(2018, 12, 5)),
        only_visits(D(2018, 1, 1), D(2018, 6, 5), D(2018, 9, 5), D(2018, 12, 31)),
    ),
    Case(
        "R5-06",
        lambda c: c.add_visit(D(2018, 12, 20), knows_helper=False),
        lambda c: c.add_visit(D(2018, 12, 1), knows_helper=False),
    ),
    Case(
        "R5-07",
        lambda c: c.add_visit(D(2018, 12, 20), satisfaction="不满意", needs="帮扶干部很少来"),
        lambda c: c.add_visit(D(2019, 1, 2), satisfaction="不满意"),
    ),
]


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.get(code="fz2018")


def test_every_rule_has_a_case() -> None:
    assert {r.code for r in all_rules()} <= {c.code for c in CASES}


def test_clean_household_trips_nothing(campaign: Campaign) -> None:
    clean = clean_household()
    for kind in ALL_LISTS:
        list_entry(kind)
    snapshot_of([clean.household])
    on_time(clean)
    result = run_checks(campaign=campaign)
    assert [o.rule.code for o in result.outcomes if o.status != RuleRunStat.Status.OK] == []
    assert list(Finding.objects.values_list("rule_code", "detail")) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, campaign: Campaign) -> None:
    clean, bad = clean_household(), clean_household()
    for kind in case.lists:
        list_entry(kind)
    if case.snapshot:
        snapshot_of([clean.household, bad.household])
    if case.near:
        case.near(clean)
    case.trip(bad)
    for c in (clean, bad):
        c.helper.refresh_from_db()
        c.head.refresh_from_db()

    result = run_checks(campaign=campaign, rule_codes=[case.code])

    [outcome] = result.outcomes
    assert outcome.status == RuleRunStat.Status.OK, outcome.message
    findings = Finding.objects.filter(rule_code=case.code)
    if case.subject:
        assert findings.filter(subject_key=case.subject(bad)).exists(), list(findings.values_list("detail", flat=True))
        if case.subject(clean) != case.subject(bad):
            assert not findings.filter(subject_key=case.subject(clean)).exists()
    else:
        hit = findings.filter(household=bad.household)
        assert hit.exists(), list(findings.values_list("detail", flat=True))
        assert not findings.filter(household=clean.household).exists(), list(findings.values_list("detail", flat=True))
    finding = findings.first()
    assert finding.detail.strip() and finding.topic and finding.dimension == int(case.code[1])


def test_list_rules_skip_without_their_list(campaign: Campaign) -> None:
    bad = clean_household()
    bad.update_head(is_dibao=True)
    result = run_checks(campaign=campaign, rule_codes=["R2-11", "R3-14"])
    assert [o.status for o in result.outcomes] == [RuleRunStat.Status.SKIPPED] * 2
    assert not Finding.objects.exists()
    assert DeptListEntry.objects.count() == 0
