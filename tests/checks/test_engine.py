"""The engine: findings keyed by (campaign, rule, subject), no duplicates, nothing written when nothing
changed, fixed-in-data and re-opening with dates and signals, scoped runs, broken and future rules."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lookback.campaigns.models import Campaign
from lookback.checks import catalogue, engine, signals
from lookback.checks.catalogue import Param, Rule, Severity, SubjectKind
from lookback.checks.engine import UnknownRule, check_workers, run_checks
from lookback.checks.models import CheckRun, Finding, RuleRunStat
from lookback.checks.sql import HOUSEHOLD, Ctx
from tests import factories as f
from tests.checks.builders import clean_household

RULES = ["R2-01", "R2-03", "R3-11", "R5-04"]


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.get(code="fz2018")


@pytest.fixture
def received():
    got: dict[str, list[int]] = {"opened": [], "resolved": []}

    def opened(sender, finding_ids, **kwargs):
        got["opened"] += finding_ids

    def resolved(sender, finding_ids, **kwargs):
        got["resolved"] += finding_ids

    signals.finding_opened.connect(opened, dispatch_uid="test-opened")
    signals.finding_resolved.connect(resolved, dispatch_uid="test-resolved")
    yield got
    signals.finding_opened.disconnect(dispatch_uid="test-opened")
    signals.finding_resolved.disconnect(dispatch_uid="test-resolved")


def _writes(queries: CaptureQueriesContext, table: str) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if table in q["sql"] and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_rerun_with_nothing_changed_writes_nothing(campaign: Campaign, django_capture_on_commit_callbacks) -> None:
    bad = clean_household()
    bad.update(income_per_capita=Decimal("2000"), size=2)
    bad.update_head(has_basic_medical=False)
    first = run_checks(campaign=campaign, rule_codes=RULES)
    assert first.reconciliation.opened == 3
    columns = ("id", "detail", "status", "updated_at", "opened_run", "fixed_run", "opened_on")
    before = list(Finding.objects.order_by("id").values_list(*columns))

    with CaptureQueriesContext(connection) as queries:
        second = run_checks(campaign=campaign, rule_codes=RULES)

    # The reconciling statements compare before they write: each matched no row.
    assert second.reconciliation.writes == 0
    assert len(_writes(queries, "checks_finding")) == 4
    assert list(Finding.objects.order_by("id").values_list(*columns)) == before
    stats = {s.rule_code: s for s in second.run.stats.all()}
    assert stats["R2-01"].found == 1 and stats["R2-01"].opened == 0 and stats["R2-01"].seconds >= 0


def test_fixed_in_data_then_reopened(campaign: Campaign, received, django_capture_on_commit_callbacks) -> None:
    bad = clean_household()
    bad.update(income_per_capita=Decimal("2000"))
    with django_capture_on_commit_callbacks(execute=True):
        first = run_checks(campaign=campaign, rule_codes=["R2-01"])
    finding = Finding.objects.get(rule_code="R2-01")
    assert finding.status == Finding.Status.OPEN and finding.opened_run == first.run
    assert finding.household == bad.household and finding.household_no == bad.household.household_no
    assert finding.division_code == bad.household.division_code
    assert received["opened"] == [finding.pk]

    bad.update(income_per_capita=Decimal("6000"))
    with django_capture_on_commit_callbacks(execute=True):
        second = run_checks(campaign=campaign, rule_codes=["R2-01"])
    finding.refresh_from_db()
    assert finding.status == Finding.Status.FIXED
    assert finding.fixed_on == timezone.localdate() and finding.fixed_run == second.run
    assert received["resolved"] == [finding.pk]
    assert second.run.stats.get().fixed == 1

    bad.update(income_per_capita=Decimal("1500"))
    with django_capture_on_commit_callbacks(execute=True):
        third = run_checks(campaign=campaign, rule_codes=["R2-01"])
    finding.refresh_from_db()
    assert Finding.objects.count() == 1
    assert finding.status == Finding.Status.OPEN and finding.fixed_on is None
    assert finding.opened_run == third.run and "1500" in finding.detail
    assert received["opened"] == [finding.pk, finding.pk]
    assert third.reconciliation.reopened == 1 and third.run.stats.get().opened == 1


def test_one_run_fixes_old_findings_and_opens_new_ones(campaign: Campaign) -> None:
    """Fixed findings are marked before new ones are inserted: a new finding is never counted fixed."""
    first_bad, second_bad = clean_household(), clean_household()
    first_bad.update(income_per_capita=Decimal("2000"))
    run_checks(campaign=campaign, rule_codes=["R2-01"])
    first_bad.update(income_per_capita=Decimal("6000"))
    second_bad.update(income_per_capita=Decimal("1800"))

    result = run_checks(campaign=campaign, rule_codes=["R2-01"])

    assert (result.reconciliation.opened, result.reconciliation.fixed) == (1, 1)
    statuses = dict(Finding.objects.values_list("household_id", "status"))
    assert statuses == {first_bad.household.pk: Finding.Status.FIXED, second_bad.household.pk: Finding.Status.OPEN}
    stat = result.run.stats.get()
    assert (stat.opened, stat.fixed) == (1, 1)
    assert Finding.objects.get(status=Finding.Status.OPEN).opened_run == result.run


def test_changed_data_updates_the_same_finding(
    campaign: Campaign, received, django_capture_on_commit_callbacks
) -> None:
    bad = clean_household()
    bad.update(size=3)
    run_checks(campaign=campaign, rule_codes=["R3-11"])
    finding = Finding.objects.get()
    bad.update(size=4)
    with django_capture_on_commit_callbacks(execute=True):
        result = run_checks(campaign=campaign, rule_codes=["R3-11"])
    assert result.reconciliation.updated == 1 and result.reconciliation.opened == 0
    finding.refresh_from_db()
    assert "4" in finding.detail and finding.status == Finding.Status.OPEN
    assert received["opened"] == []  # still the same open problem: the ledger is not told twice


def test_scoped_run_leaves_other_places_alone(campaign: Campaign) -> None:
    inside = clean_household(f.SONGKOU_VILLAGE)
    outside = clean_household(f.first_village(f.MINQING).code)
    for c in (inside, outside):
        c.update(size=5)
    run_checks(campaign=campaign, rule_codes=["R3-11"])
    assert Finding.objects.count() == 2
    for c in (inside, outside):
        c.update(size=1)
    run = CheckRun.objects.create(campaign=campaign, scope_prefix="350125101", division_code="350125101")
    result = run_checks(campaign=campaign, rule_codes=["R3-11"], run=run)
    assert result.reconciliation.fixed == 1
    assert Finding.objects.get(household=inside.household).status == Finding.Status.FIXED
    assert Finding.objects.get(household=outside.household).status == Finding.Status.OPEN


def test_unknown_rule_is_refused(campaign: Campaign) -> None:
    with pytest.raises(UnknownRule):
        run_checks(campaign=campaign, rule_codes=["R9-99"])


def test_disabled_rules_are_left_out(campaign: Campaign) -> None:
    campaign.parameters = {**campaign.parameters, "disabled_rules": ["R2-01"]}
    campaign.save()
    result = run_checks(campaign=campaign)
    codes = {o.rule.code for o in result.outcomes}
    assert "R2-01" not in codes and "R2-02" in codes


def test_campaign_parameters_are_read(campaign: Campaign) -> None:
    bad = clean_household()
    bad.update(income_per_capita=Decimal("9000"))
    run_checks(campaign=campaign, rule_codes=["R2-12"])
    assert not Finding.objects.exists()
    campaign.parameters = {**campaign.parameters, "dibao_standard": 9500}
    campaign.save()
    run_checks(campaign=campaign, rule_codes=["R2-12"])
    assert "9500" in Finding.objects.get().detail


@pytest.fixture
def extra_rules():
    """Rules declared by another app (the funds and ledger apps will): the engine takes them as they are."""
    added: list[str] = []

    def add(rule: Rule) -> Rule:
        catalogue.register(rule)
        added.append(rule.code)
        return rule

    yield add
    for code in added:
        catalogue._RULES.pop(code, None)


def test_a_broken_rule_is_recorded_and_the_others_run(campaign: Campaign, extra_rules) -> None:
    bad = clean_household()
    bad.update(size=3)
    extra_rules(
        Rule(
            code="R6-90",
            topic="fund_idle",
            dimension=6,
            clause="二(六)",
            severity=Severity.HIGH,
            subject=SubjectKind.PROJECT,
            title="broken",
            explanation="",
            query=lambda ctx: "SELECT no_such_column FROM no_such_table",
        )
    )
    result = run_checks(campaign=campaign, rule_codes=["R6-90", "R3-11"])
    stats = {s.rule_code: s for s in result.run.stats.all()}
    assert stats["R6-90"].status == RuleRunStat.Status.ERROR and stats["R6-90"].message
    assert stats["R3-11"].status == RuleRunStat.Status.OK and stats["R3-11"].found == 1
    assert result.run.status == CheckRun.Status.DONE


def test_a_future_unit_rule_runs_unchanged(campaign: Campaign, extra_rules) -> None:
    """A 二(一) rule over units (townships), with a parameter, as the ledger will declare them."""
    clean_household(f.SONGKOU_VILLAGE)
    clean_household(f.SONGKOU_VILLAGE)

    def townships_with_many(ctx: Ctx) -> str:
        least = int(ctx.setting("min_households", 2))
        return f"""SELECT 'T' || SUBSTR(h.division_code, 1, 9) AS subject_key, CAST(NULL AS BIGINT) AS household_id,
            CAST(NULL AS BIGINT) AS member_id, NULL AS household_no,
            SUBSTR(h.division_code, 1, 9) || '000' AS division_code, '共 ' || CAST(COUNT(*) AS TEXT) || ' 户' AS detail
        FROM {HOUSEHOLD} h GROUP BY SUBSTR(h.division_code, 1, 9) HAVING COUNT(*) >= {least}"""

    extra_rules(
        Rule(
            code="R1-90",
            topic="report_late",
            dimension=1,
            clause="二(一)",
            severity=Severity.LOW,
            subject=SubjectKind.UNIT,
            title="单位规则",
            explanation="说明",
            query=townships_with_many,
            params=(Param("min_households", 2, "户数"),),
        )
    )
    run_checks(campaign=campaign, rule_codes=["R1-90"])
    finding = Finding.objects.get(rule_code="R1-90")
    assert finding.subject_kind == "unit" and finding.subject_key == "T350125101"
    assert finding.division_code == "350125101000" and finding.household is None and finding.detail == "共 2 户"


def test_rule_declarations_are_complete() -> None:
    codes = [r.code for r in catalogue.all_rules()]
    assert len(codes) == len(set(codes)) >= 50
    for rule in catalogue.all_rules():
        assert rule.code.startswith(f"R{rule.dimension}-")
        assert rule.clause == catalogue.DIMENSIONS[rule.dimension][0]
        assert str(rule.title) and len(str(rule.explanation)) >= 30
        assert rule.topic in catalogue.TOPICS


def test_a_run_judges_as_of_the_reference_date(campaign: Campaign) -> None:
    """Ages come from the ID number and the reference date, not today: a child born in 2003 is 15 on
    2018-12-31 (compulsory school age) whatever year the test runs in."""
    bad = clean_household()
    bad.add_member(
        relation="之子",
        sex="男",
        id_number=f.id_number("350125", dt.date(2003, 6, 1)),
        school_status="非在校生",
        labour_skill="无劳动力",
        work_status="",
    )
    run_checks(campaign=campaign, rule_codes=["R2-06"])
    assert "15 岁" in Finding.objects.get().detail
    campaign.reference_date = dt.date(2019, 12, 31)
    campaign.save()
    run_checks(campaign=campaign, rule_codes=["R2-06"])
    assert Finding.objects.get().status == Finding.Status.FIXED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rules_run_side_by_side_with_the_same_result(settings) -> None:
    """Outside a transaction the rules run on several connections at once; the findings are the same
    as one after another."""
    campaign = Campaign.objects.get(code="fz2018")
    bad = clean_household()
    bad.update(income_per_capita=Decimal("2000"), size=2)
    bad.update_head(has_basic_medical=False)
    settings.LOOKBACK_CHECK_WORKERS = 1
    one = run_checks(campaign=campaign, rule_codes=RULES)
    serial = sorted(Finding.objects.values_list("rule_code", "subject_key", "detail"))
    Finding.objects.all().delete()
    settings.LOOKBACK_CHECK_WORKERS = 3
    many = run_checks(campaign=campaign, rule_codes=RULES)
    assert sorted(Finding.objects.values_list("rule_code", "subject_key", "detail")) == serial
    assert [o.found for o in many.outcomes] == [o.found for o in one.outcomes]
    assert [o.rule.code for o in many.outcomes] == RULES
    # The run's staging table (shared by the connections on PostgreSQL) is gone afterwards.
    assert not [name for name in connection.introspection.table_names() if name.startswith("checks_stage")]


def test_rules_run_one_at_a_time_by_default_on_sqlite(settings, monkeypatch) -> None:
    settings.LOOKBACK_CHECK_WORKERS = None
    monkeypatch.delenv("LOOKBACK_CHECK_WORKERS", raising=False)
    expected = 1 if connection.vendor == "sqlite" else max(1, min(4, os.cpu_count() or 1))
    assert check_workers() == expected
    monkeypatch.setenv("LOOKBACK_CHECK_WORKERS", "3")
    assert check_workers() == 3


def test_deletes_keep_their_on_delete_without_database_constraints(campaign: Campaign) -> None:
    """A finding's keys are not constraints in the database (insert speed); Django still applies
    on_delete: deleting the member or household empties the key, deleting the run empties the run,
    deleting the campaign deletes its findings."""
    member_case = clean_household()
    member_case.update_head(has_basic_medical=False)
    household_case = clean_household()
    household_case.update(income_per_capita=Decimal("2000"))
    run = run_checks(campaign=campaign, rule_codes=RULES).run
    by_member = Finding.objects.get(rule_code="R2-03", household=member_case.household)
    by_household = Finding.objects.get(rule_code="R2-01", household=household_case.household)
    assert by_member.member_id == member_case.head.pk

    member_case.head.delete()
    household_case.household.delete()
    by_member.refresh_from_db()
    by_household.refresh_from_db()
    assert by_member.member_id is None and by_member.household_id == member_case.household.pk
    assert by_household.household_id is None
    assert by_household.opened_run_id == run.pk

    run.delete()
    by_household.refresh_from_db()
    assert by_household.opened_run_id is None
    assert Finding.objects.filter(campaign=campaign).count() == 2

    campaign.delete()
    assert not Finding.objects.exists()


def test_an_insert_that_doubles_the_findings_builds_their_indexes_again(
    campaign: Campaign, received, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    """A campaign's first run inserts its findings without the plain indexes and builds them after;
    what it opened is counted per rule and announced without an index on the opening run."""
    monkeypatch.setattr(engine, "DEFER_MIN_ROWS", 1)

    def indexes() -> dict[str, list[str]]:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, Finding._meta.db_table)
        return {name: info["columns"] for name, info in found.items() if info["index"]}

    before = indexes()
    bad = clean_household()
    bad.update(income_per_capita=Decimal("2000"), size=2)
    bad.update_head(has_basic_medical=False)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        result = run_checks(campaign=campaign, rule_codes=RULES)

    assert [q for q in queries.captured_queries if q["sql"].startswith("DROP INDEX")]
    assert indexes() == before
    assert {s.rule_code: s.opened for s in result.run.stats.all()} == {"R2-01": 1, "R2-03": 1, "R3-11": 1, "R5-04": 0}
    assert sorted(received["opened"]) == sorted(Finding.objects.values_list("id", flat=True))
    # A later, smaller insert keeps the indexes.
    other = clean_household()
    other.update(income_per_capita=Decimal("2100"))
    with CaptureQueriesContext(connection) as queries:
        later = run_checks(campaign=campaign, rule_codes=RULES)
    assert later.reconciliation.opened == 1
    assert not [q for q in queries.captured_queries if q["sql"].startswith("DROP INDEX")]
