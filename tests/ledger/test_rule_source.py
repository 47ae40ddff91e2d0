"""The rule source: the checks app's findings open problems, and a finding that disappears from the data
moves its problem to 待核验 — never to 已销号 — where a person at township level or above verifies it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger import services
from lookback.ledger.models import Action, Level, Problem, Source, State
from lookback.ledger.services import ConflictError, NotAllowed
from tests import factories as f
from tests.ledger.helpers import campaign

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("lookback.checks"), reason="the checks app is not installed"),
]


def _finding(household, rule_code: str = "R3-01", subject: str | None = None, **fields):
    from lookback.checks.models import Finding

    now = timezone.now()
    defaults = {
        "campaign": campaign(),
        "rule_code": rule_code,
        "topic": "id_invalid",
        "dimension": 3,
        "subject_kind": "household",
        "subject_key": subject or f"household:{household.household_no}",
        "household": household,
        "household_no": household.household_no,
        "division_code": household.division_code,
        "detail": "王建华：证件号码校验码错误",
        "opened_on": timezone.localdate(),
        "created_at": now,
        "updated_at": now,
    }
    defaults.update(fields)
    return Finding.objects.create(**defaults)


def _opened(*findings) -> None:
    from lookback.checks import signals
    from lookback.checks.models import Finding

    signals.finding_opened.send(sender=Finding, run=None, finding_ids=[x.pk for x in findings])


def _resolved(*findings) -> None:
    from lookback.checks import signals
    from lookback.checks.models import Finding

    signals.finding_resolved.send(sender=Finding, run=None, finding_ids=[x.pk for x in findings])


def test_a_finding_opens_one_problem(world):
    finding = _finding(world.songkou)
    _opened(finding)
    _opened(finding)  # announced again (a re-run): still one problem
    problem = Problem.objects.get()
    assert problem.source == Source.RULE and problem.state == State.OPEN
    assert problem.rule_code == "R3-01" and problem.subject_key == finding.subject_key
    assert problem.household == world.songkou and problem.division_code == world.songkou.division_code
    assert problem.found_level == Level.SYSTEM and problem.found_by is None
    assert problem.category == "证件号码无效"  # the rule's title
    assert problem.severity == "critical"
    [entry] = problem.transitions.all()
    assert entry.action == Action.CREATE and entry.actor is None
    assert problem.history.count() == 1


def test_a_disappeared_finding_awaits_verification_not_sign_off(world):
    finding = _finding(world.songkou)
    _opened(finding)
    _resolved(finding)
    problem = Problem.objects.get()
    assert problem.state == State.AWAITING and problem.fixed_in_data
    assert problem.transitions.filter(action=Action.DATA_FIXED, actor=None).exists()
    # The system is the maker: a village user may not verify, a township officer may, without a file.
    with pytest.raises(NotAllowed, match="同级或上级"):
        services.sign_off(user=world.users[Role.VILLAGE], problem=problem, version=problem.version)
    services.sign_off(user=world.users[Role.TOWNSHIP], problem=problem, version=problem.version)
    assert Problem.objects.get().state == State.CLOSED


def test_the_data_move_makes_an_older_page_stale(world):
    finding = _finding(world.songkou)
    _opened(finding)
    problem = Problem.objects.get()
    seen = problem.version
    _resolved(finding)
    with pytest.raises(ConflictError):
        services.update_plan(
            user=world.users[Role.TOWNSHIP],
            problem=problem,
            version=seen,
            measures="x",
            responsible_unit="x",
            responsible_person="x",
            deadline=None,
        )


def test_a_reappearing_finding_sends_the_problem_back_to_work(world):
    finding = _finding(world.songkou)
    _opened(finding)
    _resolved(finding)
    _opened(finding)
    problem = Problem.objects.get()
    assert problem.state == State.OPEN and not problem.fixed_in_data
    assert problem.transitions.filter(action=Action.DATA_REAPPEARED).exists()


def test_a_finding_back_after_sign_off_opens_a_new_problem(world):
    finding = _finding(world.songkou)
    _opened(finding)
    _resolved(finding)
    first = Problem.objects.get()
    services.sign_off(user=world.users[Role.TOWNSHIP], problem=first, version=first.version)
    _opened(finding)
    assert Problem.objects.count() == 2
    assert Problem.objects.exclude(pk=first.pk).get().state == State.OPEN


def test_many_findings_in_one_announcement(world):
    findings = [_finding(world.songkou, subject=f"member:{n}") for n in range(30)]
    _opened(*findings)
    assert Problem.objects.filter(source=Source.RULE).count() == 30
    _resolved(*findings[:10])
    assert Problem.objects.filter(state=State.AWAITING).count() == 10


def test_a_waiver_closes_the_problem(world):
    from lookback.checks import signals
    from lookback.checks.models import Finding

    finding = _finding(world.songkou)
    _opened(finding)

    class Waiver:  # what the receiver reads of an approved waiver
        decided_by = world.users[Role.COUNTY]
        reason = "户籍已迁出，系统未同步"

    signals.finding_waived.send(sender=Finding, finding=finding, waiver=Waiver())
    problem = Problem.objects.get()
    assert problem.state == State.CLOSED and problem.closed_by == world.users[Role.COUNTY]


def test_the_engine_end_to_end(world, django_capture_on_commit_callbacks):
    """A real rule run: an invalid ID number opens a problem; corrected, the next run moves it to 待核验."""
    from lookback.checks.engine import run_checks
    from lookback.registry.models import Member

    household = f.make_household(f.SONGKOU_VILLAGE, head_name="林阿妹")
    bad = household.head_id_number[:-1] + ("0" if household.head_id_number[-1] != "0" else "1")
    member = f.make_member(household, name="林阿妹", id_number=bad)
    with django_capture_on_commit_callbacks(execute=True):
        run_checks(campaign=campaign(), rule_codes=["R3-01"])
    problem = Problem.objects.get(source=Source.RULE, household=household)
    assert problem.state == State.OPEN and problem.dimension == 3
    Member.objects.filter(pk=member.pk).update(id_number=household.head_id_number)
    with django_capture_on_commit_callbacks(execute=True):
        run_checks(campaign=campaign(), rule_codes=["R3-01"])
    problem.refresh_from_db()
    assert problem.state == State.AWAITING and problem.fixed_in_data
