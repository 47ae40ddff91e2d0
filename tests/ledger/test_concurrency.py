"""Two people edit the same problem at the same moment, on PostgreSQL with real concurrent transactions:
one wins, the other is told (ConflictError, 409) and nothing is lost or silently overwritten.

The winner's transaction is held open after its claim (a slow save), so the loser's UPDATE really waits
on the row lock and then finds the version gone — the case a sequential test cannot show.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from lookback.accounts.roles import Role
from lookback.ledger import services
from lookback.ledger.models import Action, Problem
from lookback.ledger.services import ConflictError
from tests.ledger.helpers import make_problem

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions: PostgreSQL"),
]


def test_two_concurrent_plan_edits_one_wins_one_is_told(world, monkeypatch):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    problem = make_problem(township, world.songkou, plan=True)
    seen = problem.version
    claimed = threading.Event()
    real_save = services._save

    def slow_save(p: Problem) -> None:
        real_save(p)
        if threading.current_thread().name == "first":
            claimed.set()
            time.sleep(0.8)  # hold the row: the second edit arrives while this transaction is open

    monkeypatch.setattr(services, "_save", slow_save)
    results: dict[str, object] = {}

    def edit(name: str, user, measures: str) -> None:
        try:
            if name == "second":
                claimed.wait(5)
            services.update_plan(
                user=user,
                problem=Problem.objects.get(pk=problem.pk),
                version=seen,
                measures=measures,
                responsible_unit="嵩口镇",
                responsible_person="陈晓东",
                deadline=problem.deadline,
            )
            results[name] = "saved"
        except ConflictError as exc:
            results[name] = exc
        finally:
            done[name] = time.monotonic()
            connections.close_all()

    done: dict[str, float] = {}
    first = threading.Thread(target=edit, args=("first", township, "乡镇：补办参保"), name="first")
    second = threading.Thread(target=edit, args=("second", county, "县里：改为代缴"), name="second")
    first.start()
    second.start()
    first.join(10)
    second.join(10)
    assert results["first"] == "saved"
    assert isinstance(results["second"], ConflictError)
    assert "已被他人修改" in results["second"].message and results["second"].status == 409
    # The second edit was issued while the first's transaction was open and waited for its row lock.
    assert done["second"] >= done["first"] - 0.05
    fresh = Problem.objects.get(pk=problem.pk)
    assert fresh.measures == "乡镇：补办参保"
    assert fresh.version == seen + 1
    assert fresh.transitions.filter(action=Action.PLAN_UPDATE).count() == 1
    assert fresh.history.filter(measures="县里：改为代缴").count() == 0


def test_concurrent_sign_off_and_return_only_one_happens(world, monkeypatch):
    from tests.ledger.helpers import rectified

    township = world.users[Role.TOWNSHIP]
    county, city = world.users[Role.COUNTY], world.users[Role.CITY]
    problem = rectified(township, world.songkou)
    seen = problem.version
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def act(kind: str) -> None:
        try:
            barrier.wait(5)
            p = Problem.objects.get(pk=problem.pk)
            if kind == "sign":
                services.sign_off(user=county, problem=p, version=seen)
            else:
                services.return_problem(user=city, problem=p, version=seen, reason="证据不足")
            outcomes.append(kind)
        except ConflictError as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(k,)) for k in ("sign", "return")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    winners = [o for o in outcomes if isinstance(o, str)]
    assert len(winners) == 1 and sum(isinstance(o, ConflictError) for o in outcomes) == 1
    fresh = Problem.objects.get(pk=problem.pk)
    assert fresh.state == ("closed" if winners == ["sign"] else "in_progress")
    assert fresh.version == seen + 1
    assert fresh.transitions.filter(action__in=[Action.SIGN_OFF, Action.RETURN]).count() == 1
