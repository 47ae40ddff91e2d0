"""R3-28 一户一档资料不全: the latest archive check as of the reference date, required minus present items,
households never checked, a later complete check clearing the finding and its problem."""

from __future__ import annotations

import datetime as dt

import pytest

from lookback.accounts.roles import Role
from lookback.campaigns.models import Campaign
from lookback.checks.catalogue import get_rule
from lookback.checks.engine import run_checks
from lookback.checks.models import Finding, RuleRunStat
from lookback.ledger.models import Problem, State
from lookback.registry.models import ARCHIVE_ITEMS_DEFAULT
from lookback.registry.services import record_archive_check
from tests import factories as f
from tests.checks.builders import clean_household

D = dt.date
RULE = "R3-28"


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.get(code="fz2018")


def _run(campaign: Campaign) -> dict[int, str]:
    result = run_checks(campaign=campaign, rule_codes=[RULE])
    [outcome] = result.outcomes
    assert outcome.status == RuleRunStat.Status.OK, outcome.message
    return dict(
        Finding.objects.filter(rule_code=RULE, status=Finding.Status.OPEN).values_list("household_id", "detail")
    )


def test_the_built_in_campaign_carries_the_default_list(campaign: Campaign) -> None:
    assert campaign.parameters["archive_items"] == list(ARCHIVE_ITEMS_DEFAULT)
    assert campaign.parameters["archive_unchecked_is_finding"] is False


def test_a_switch_parameter_reads_as_yes_or_no_with_the_word_to_type(campaign: Campaign) -> None:
    texts = {p.name: text for p, text in get_rule(RULE).param_texts(campaign)}
    assert texts["archive_unchecked_is_finding"] == "否（false）"
    campaign.parameters["archive_unchecked_is_finding"] = True
    assert {p.name: text for p, text in get_rule(RULE).param_texts(campaign)}[
        "archive_unchecked_is_finding"
    ] == "是（true）"


def test_detail_names_the_missing_items_in_list_order_and_the_date(campaign: Campaign) -> None:
    bad, complete, unchecked = clean_household(), clean_household(), clean_household()
    bad.add_archive_check(D(2018, 11, 20), missing=("退出公示公告", "民主评议记录"))
    complete.add_archive_check(D(2018, 11, 21))

    findings = _run(campaign)

    assert findings == {bad.household.pk: "一户一档核查（2018-11-20）缺少：民主评议记录、退出公示公告"}
    assert unchecked.household.pk not in findings
    finding = Finding.objects.get(rule_code=RULE)
    assert (finding.topic, finding.dimension, finding.household_no) == (
        "archive_incomplete",
        3,
        bad.household.household_no,
    )


def test_only_the_latest_check_on_or_before_the_reference_date_counts(campaign: Campaign) -> None:
    completed_later, broken_later, after_ref, same_day = (clean_household() for _ in range(4))
    completed_later.add_archive_check(D(2018, 10, 1), missing=("收入核算表",))
    completed_later.add_archive_check(D(2018, 12, 10))
    broken_later.add_archive_check(D(2018, 10, 1))
    broken_later.add_archive_check(D(2018, 12, 10), missing=("帮扶计划",))
    # A check after the reference date (2018-12-31) does not count for this campaign.
    after_ref.add_archive_check(D(2018, 12, 1), missing=("村级公示",))
    after_ref.add_archive_check(D(2019, 1, 5))
    # Two checks on one day: the one recorded last counts.
    same_day.add_archive_check(D(2018, 12, 3), missing=("贫困户登记表",))
    same_day.add_archive_check(D(2018, 12, 3))

    findings = _run(campaign)

    assert set(findings) == {broken_later.household.pk, after_ref.household.pk}
    assert findings[broken_later.household.pk].endswith("缺少：帮扶计划")
    assert "2018-12-01" in findings[after_ref.household.pk]


def test_the_campaign_list_decides_what_is_required(campaign: Campaign) -> None:
    old = clean_household()
    old.add_archive_check(D(2018, 11, 20), present=("贫困户申请书", "民主评议记录"))
    campaign.parameters = {**campaign.parameters, "archive_items": ["贫困户申请书", "民主评议记录", "脱贫攻坚明白卡"]}
    campaign.save()

    findings = _run(campaign)

    assert findings == {old.household.pk: "一户一档核查（2018-11-20）缺少：脱贫攻坚明白卡"}


def test_never_checked_households_are_findings_only_when_the_campaign_says_so(campaign: Campaign) -> None:
    unchecked, complete = clean_household(), clean_household()
    complete.add_archive_check(D(2018, 11, 21))
    assert _run(campaign) == {}

    campaign.parameters = {**campaign.parameters, "archive_unchecked_is_finding": True}
    campaign.save()
    findings = _run(campaign)

    assert findings == {unchecked.household.pk: "截至基准日（2018-12-31）未登记一户一档核查"}


def test_a_later_complete_check_clears_the_finding_and_moves_its_problem_to_verification(
    campaign: Campaign, django_capture_on_commit_callbacks
) -> None:
    bad = clean_household()
    user = f.make_user(Role.VILLAGE, bad.household.division_code, "archive-village")
    everything_but_one = [item for item in ARCHIVE_ITEMS_DEFAULT if item != "县级审批公告"]
    record_archive_check(
        user=user, household=bad.household, checked_on=D(2018, 11, 20), present_items=everything_but_one
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert set(_run(campaign)) == {bad.household.pk}
    problem = Problem.objects.get(rule_code=RULE, household=bad.household)
    assert problem.state == State.OPEN

    record_archive_check(
        user=user, household=bad.household, checked_on=D(2018, 12, 15), present_items=ARCHIVE_ITEMS_DEFAULT
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert _run(campaign) == {}

    finding = Finding.objects.get(rule_code=RULE)
    assert finding.status == Finding.Status.FIXED
    problem.refresh_from_db()
    assert problem.state == State.AWAITING
