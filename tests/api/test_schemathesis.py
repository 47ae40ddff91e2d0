"""schemathesis against /api/openapi.json with every role's token: no 5xx, every response as the schema
says, and nothing outside the user's scope in any response (a custom check).

Every operation of the schema is fuzzed, so later apps' endpoints are covered the day they are added.
Bounded for speed: 24 examples per operation, the eight roles' tokens taking turns (3 each). The schema is
fetched inside the test over WSGI (schemathesis' fixture-based loader does not work with pytest 9).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lookback.accounts.models import ApiToken
from lookback.accounts.roles import Role
from tests.scoping_registry import ScopeWorld

# Per operation; the roles take turns, so each role's token is used on every operation 3 times.
MAX_EXAMPLES = 24
# The checks that judge one response. Not the ones that send more requests of their own (ignored_auth
# and the like): tests/api and tests/accounts cover authentication, and each extra request costs time.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def scope_world(world) -> ScopeWorld:
    return ScopeWorld(world)


@contextmanager
def keep_test_connection() -> Iterator[None]:
    """schemathesis calls the plain WSGI handler, which closes the database connection after each request
    (and with it the test's transaction on PostgreSQL). Django's test client avoids that the same way, and
    reconnects the handlers after each of its own requests: so no test-client request inside this block."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _objects(value: Any):
    """Every JSON object in a response body, nested ones included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def scope_check(sw: ScopeWorld, role: str):
    """A schemathesis check: no household or division outside the role's scope in the response."""
    prefix = sw.user(role).scope_prefix or ""
    visible_ids = {h.pk for h in sw.visible(role)}
    invisible = sw.invisible(role)

    def no_data_outside_scope(ctx, response, case) -> None:
        text = response.text
        for h in invisible:
            assert h.household_no not in text, f"{role} sees {h.household_no} ({h.head_name}), outside the scope"
            assert h.head_id_number not in text, f"{role} sees the ID number of {h.head_name}, outside the scope"
        try:
            body = json.loads(text)
        except ValueError:
            return
        for obj in _objects(body):
            if "household_no" in obj and "division_code" in obj:
                assert obj["division_code"].startswith(prefix), f"{role} sees household {obj['household_no']}"
                if "head_name" in obj:  # a household itself, not a row that merely names one
                    assert obj["id"] in visible_ids, f"{role} sees household {obj['household_no']}"
            elif "code" in obj and "level" in obj:
                assert obj["code"].startswith(prefix), f"{role} sees division {obj['code']} {obj.get('name')}"

    return no_data_outside_scope


def _point_at_real_objects(case, sw: ScopeWorld) -> None:
    """Random ids almost never exist: send half of the examples to the world's objects instead, inside
    and outside each role's scope."""
    params = case.path_parameters or {}
    for name, value in list(params.items()):
        # Only valid ids (1 ≤ id < 2⁶³): a negative example must stay invalid.
        valid_id = isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**63
        if valid_id and value % 2 == 0 and "household" in name:
            ids = sorted(h.pk for h in sw.households)
            params[name] = ids[(value // 2) % len(ids)]
        elif name == "code" and isinstance(value, str) and len(value) % 2 == 0:
            codes = sorted(
                {h.division_code for h in sw.households} | {u.scope.code for u in sw.users.values() if u.scope}
            )
            params[name] = codes[(len(value) // 2) % len(codes)]


def _fuzzer(operation: Any, sw: ScopeWorld, tokens: dict[str, str], checks: dict[str, Any]) -> Any:
    """A hypothesis test of one operation: valid and invalid parameters both (bad input must be a 4xx,
    never a 5xx), the roles' tokens taking turns."""
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    roles = itertools.cycle(Role.values)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same examples on every run: CI must not flicker
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing example is reported
    )
    def fuzz(case: Any) -> None:
        _point_at_real_objects(case, sw)
        role = next(roles)
        # Each call in its own savepoint: writes do not pile up, and on PostgreSQL one failed statement
        # (a 500 being reported) does not abort the test's transaction for every call after it.
        savepoint = transaction.savepoint()
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"}, checks=[*CHECKS, checks[role]])
        finally:
            transaction.savepoint_rollback(savepoint)

    return fuzz


def test_api_with_every_role(client, scope_world):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = get_wsgi_application()
    schema.location = "/api/openapi.json"
    tokens = {role: ApiToken.issue(user=user, name="schemathesis")[1] for role, user in scope_world.users.items()}
    checks = {role: scope_check(scope_world, role) for role in Role.values}

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    failures = []
    for operation in operations:
        fuzz = _fuzzer(operation, scope_world, tokens, checks)
        try:
            with keep_test_connection():
                fuzz()
        except BaseException as exc:  # schemathesis raises exception groups; collect every operation's
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
    assert not failures, "\n\n".join(failures)
