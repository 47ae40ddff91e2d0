"""The 二(一) procedure rules R1-01 `rectification_overdue` and R1-02 `report_late` (ledger/check_rules.py):
what they judge as of, their details, the ledger problems they open (without feeding themselves) and the
accountability suggestions that come from their findings."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger import selectors, services
from lookback.ledger.models import Level, Problem, Source, State, TownshipReport
from tests import factories as f
from tests.ledger.helpers import campaign, make_problem, photo

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("lookback.checks"), reason="the checks app is not installed"),
]

SONGKOU_TOWNSHIP = f.SONGKOU


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run rules; their findings are announced after commit, so run those callbacks as a commit would."""
    from lookback.checks.engine import run_checks

    def run_rules(*codes: str):
        with django_capture_on_commit_callbacks(execute=True):
            return run_checks(campaign=campaign(), rule_codes=list(codes) or ["R1-01", "R1-02"])

    return run_rules


def findings(code: str) -> dict[str, str]:
    from lookback.checks.models import Finding

    return dict(Finding.objects.filter(rule_code=code, status="open").values_list("subject_key", "detail"))


def overdue(user, household, days: int, **extra) -> Problem:
    problem = make_problem(user, household, plan=True, **extra)
    today = timezone.localdate()
    Problem.objects.filter(pk=problem.pk).update(
        deadline=today - timedelta(days=days), found_on=today - timedelta(days=days + 30)
    )
    problem.refresh_from_db()
    return problem


def set_parameters(**values) -> None:
    c = campaign()
    c.parameters = {**c.parameters, **values}
    c.save()


def submitted_at(local: dt.datetime) -> TownshipReport:
    township = f.division(SONGKOU_TOWNSHIP)
    at = timezone.make_aware(local)
    return TownshipReport.objects.create(
        campaign=campaign(),
        township=township,
        division_code=township.code,
        state="submitted",
        basic_situation="基本情况",
        first_submitted_at=at,
        submitted_at=at,
    )


def test_overdue_detail_counts_by_state_and_names_units(world, run):
    township = world.users[Role.TOWNSHIP]
    overdue(township, world.songkou, 20)
    overdue(township, world.songkou, 40, responsible_unit="嵩口镇卫生院")
    Problem.objects.filter(pk=overdue(township, world.village_other, 30).pk).update(state=State.OPEN)
    overdue(township, world.songkou, 10)  # overdue, but not by more than 15 days
    county_level = make_problem(world.users[Role.COUNTY], None, plan=True)  # a problem of the county itself
    Problem.objects.filter(pk=county_level.pk).update(deadline=timezone.localdate() - timedelta(days=16))
    run("R1-01")
    found = findings("R1-01")
    earliest = (timezone.localdate() - timedelta(days=40)).isoformat()
    text, units = found[SONGKOU_TOWNSHIP].split("责任单位：")
    assert text == f"3 个问题超过整改时限 15 天以上仍未整改完成（待整改 1 个，整改中 2 个）；最早整改时限 {earliest}；"
    assert sorted(units.split(",")) == ["嵩口镇卫生院", "嵩口镇政府"]
    assert found[f.YONGTAI].startswith("1 个问题")
    set_parameters(accountability_overdue_days=25)
    run("R1-01")
    assert findings("R1-01")[SONGKOU_TOWNSHIP].startswith("2 个问题超过整改时限 25 天以上")
    assert f.YONGTAI not in findings("R1-01")


def test_overdue_findings_open_one_township_problem_that_never_counts_itself(world, run):
    township = world.users[Role.TOWNSHIP]
    late = overdue(township, world.songkou, 20)
    run("R1-01")
    [opened] = Problem.objects.filter(rule_code="R1-01")
    assert opened.source == Source.RULE and opened.dimension == 1 and opened.division_code == SONGKOU_TOWNSHIP
    assert opened.household is None and opened.found_level == Level.SYSTEM
    assert opened.description.startswith("1 个问题超过整改时限")
    # The rule's own problem gets an old deadline too: it is not counted, and nothing new is opened.
    Problem.objects.filter(pk=opened.pk).update(deadline=timezone.localdate() - timedelta(days=60))
    result = run("R1-01")
    assert result.reconciliation.writes == 0
    assert Problem.objects.filter(rule_code="R1-01").count() == 1
    assert findings("R1-01")[SONGKOU_TOWNSHIP].startswith("1 个问题")
    # The overdue problem is rectified: the finding goes, the unit's problem awaits verification.
    services.add_evidence(user=township, problem=late, upload=photo())
    late.refresh_from_db()
    services.mark_rectified(user=township, problem=late, version=late.version)
    run("R1-01")
    assert findings("R1-01") == {}
    opened.refresh_from_db()
    assert opened.state == State.AWAITING and opened.fixed_in_data


def test_report_late_judges_as_of_the_run_day_or_the_parameter(world, run):
    set_parameters(procedure_as_of="2019-01-10")
    run("R1-02")
    assert findings("R1-02") == {}  # the deadline day itself: not late yet
    set_parameters(procedure_as_of="2019-01-11")
    run("R1-02")
    missing = "逾期未报送：报送期限 2019-01-10 已过，尚未报送自查报告"
    # Every township with registered households, and no other.
    assert findings("R1-02") == {
        SONGKOU_TOWNSHIP: missing,
        world.yongtai_other.division_code[:9] + "000": missing,
        world.minqing.division_code[:9] + "000": missing,
    }
    # First submitted early on 15 January, Beijing time (14 January in UTC).
    submitted_at(dt.datetime(2019, 1, 15, 7, 0))
    run("R1-02")
    assert findings("R1-02")[SONGKOU_TOWNSHIP] == missing  # judged as of the 11th: not yet submitted
    set_parameters(procedure_as_of="运行当天")
    run("R1-02")
    assert findings("R1-02")[SONGKOU_TOWNSHIP] == "逾期报送：报送期限 2019-01-10，首次报送于 2019-01-15"


def test_report_submitted_on_the_deadline_evening_is_on_time(world, run):
    submitted_at(dt.datetime(2019, 1, 10, 23, 50))
    run("R1-02")
    assert SONGKOU_TOWNSHIP not in findings("R1-02")


def test_a_bad_parameter_is_this_rule_s_error_and_the_others_still_run(world, run):
    from lookback.checks.models import RuleRunStat

    set_parameters(procedure_as_of="明年")
    result = run("R1-01", "R1-02", "R3-11")
    status = {o.rule.code: (o.status, o.message) for o in result.outcomes}
    assert status["R1-02"][0] == RuleRunStat.Status.ERROR and "procedure_as_of" in status["R1-02"][1]
    assert status["R3-11"][0] == RuleRunStat.Status.OK


def test_suggestions_come_from_the_rules_current_findings(client, world, run):
    township = world.users[Role.TOWNSHIP]
    late = overdue(township, world.songkou, 30)
    overdue(township, world.songkou, 5)
    report = services.start_report(user=township, campaign=campaign())
    services.submit_report(user=township, report=report, version=report.version)
    city = world.users[Role.CITY]
    before = selectors.accountability_suggestions(city, campaign())
    assert before["overdue"] == [] and before["late_reports"] == [] and before["run"] is None

    result = run()
    suggestions = selectors.accountability_suggestions(city, campaign())
    assert suggestions["run"] == result.run and suggestions["days"] == 15
    [row] = suggestions["overdue"]
    assert row["finding"].division_code == SONGKOU_TOWNSHIP and row["unit"] == "嵩口镇"
    assert row["problem_ids"] == [late.pk]
    [late_report] = suggestions["late_reports"]  # submitted, but after the deadline
    assert late_report["finding"].division_code == SONGKOU_TOWNSHIP
    assert late_report["finding"].detail.startswith("逾期报送：报送期限 2019-01-10，首次报送于 ")
    # Never submitted: named by county (永泰县's other township, 闽清县's).
    missing = dict(suggestions["missing_reports"])
    assert set(missing) == {"永泰县", "闽清县"} and suggestions["missing_count"] == 2
    assert missing["闽清县"] == [f.division(world.minqing.division_code[:9] + "000").name]
    # Scoped: the county sees no accountability; a supervisor of 闽清 sees only 闽清.
    supervisor = f.make_user(Role.SUPERVISOR, f.MINQING, "t-supervisor-mq")
    scoped = selectors.accountability_suggestions(supervisor, campaign())
    assert (
        scoped["overdue"] == [] and scoped["late_reports"] == [] and list(dict(scoped["missing_reports"])) == ["闽清县"]
    )
    assert selectors.accountability_suggestions(world.users[Role.COUNTY], campaign())["missing_reports"] == []

    client.force_login(city)
    page = client.get(reverse("ledger:accountability_list")).content.decode()
    assert "R1-01" in page and row["finding"].detail in page and "逾期未报送：2 个乡镇" in page
    assert f"problem_ids={late.pk}" in page and "band=overdue" in page

    # A waived finding is no longer a suggestion.
    from lookback.checks.models import Finding

    Finding.objects.filter(rule_code="R1-01").update(status="waived")
    assert selectors.accountability_suggestions(city, campaign())["overdue"] == []
