"""The scope walk: every URL pattern, every role, an object inside and one outside the role's scope.

Issue 2 promises "no leaks" for every URL that takes an id. This walks `lookback.urls` recursively,
so a page added later is walked the day it is added; a pattern with arguments that nobody registered
in `tests/scoping_registry.py` (or `tests/<app>/url_scopes.py`) fails the walk with a message saying
where to register it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from lookback.accounts.roles import Role
from tests.scoping_registry import ALLOW_LIST, REGISTRY, Case, ScopeWorld, Target, is_allowed, load_app_registrations

load_app_registrations()

OK_INSIDE = {200, 302}
OK_OUTSIDE = {403, 404}


@dataclass(frozen=True)
class Pattern:
    name: str  # namespaced URL name, or namespace + route when the pattern has none
    route: str
    params: tuple[str, ...]
    named: bool = True

    def __str__(self) -> str:
        return self.name


def walk_patterns() -> list[Pattern]:
    found: list[Pattern] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = namespace + (f"{p.namespace}:" if p.namespace else "")
                walk(p, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                params = tuple(getattr(p.pattern, "converters", {}) or ())
                if not params and "(?P<" in route:  # a regex pattern
                    params = tuple(p.pattern.regex.groupindex)
                name = namespace + (p.name or route)
                found.append(Pattern(name=name, route=route, params=params, named=bool(p.name)))

    walk(get_resolver(), "", "")
    return found


PATTERNS = walk_patterns()
WALKED = [p for p in PATTERNS if not is_allowed(p.name)]


def test_every_pattern_with_arguments_is_registered():
    missing = [p for p in WALKED if p.params and p.name not in REGISTRY]
    assert not missing, (
        "These URL patterns take arguments but the scope walk does not know which objects to use. Register "
        "each in tests/<app>/url_scopes.py with @register('<name>') (see tests/scoping_registry.py), "
        "or, only if it holds no scoped data, add it to ALLOW_LIST with a reason:\n"
        + "\n".join(f"  {p.name}  ({p.route})" for p in missing)
    )


def test_registry_names_exist():
    names = {p.name for p in PATTERNS}
    stale = sorted(set(REGISTRY) - names)
    assert not stale, f"Registered in the scope walk but no such URL pattern: {stale}"
    # The allow-list must stay short and reasoned.
    assert all(ALLOW_LIST.values())


def test_walk_covers_the_foundation():
    names = {p.name for p in WALKED}
    assert {"registry:household_detail", "api-1.0.0:get_household_detail", "registry:household_list"} <= names


def _url(pattern: Pattern, target: Target) -> str:
    if not pattern.named:
        return "/" + pattern.route
    return reverse(pattern.name, kwargs=target.kwargs or None)


def _request(client: Client, pattern: Pattern, target: Target):
    url = _url(pattern, target)
    if target.method == "post":
        return client.post(url + (f"?{urlencode(target.query)}" if target.query else ""), target.data)
    return client.get(url, target.query)


def _leaks(sw: ScopeWorld, role: str, response) -> list[str]:
    """户编号 / ID numbers of households the role may not see that appear in a 200 page."""
    if response.status_code != 200 or getattr(response, "streaming", False):
        return []
    body = response.content.decode("utf-8", errors="replace")
    return [
        f"{h.household_no} ({h.head_name})"
        for h in sw.invisible(role)
        if h.household_no in body or h.head_id_number in body
    ]


def _resolve(pattern: Pattern, sw: ScopeWorld, role: str) -> tuple[Case, bool]:
    entry = REGISTRY.get(pattern.name)
    if entry is None:
        if pattern.params:
            raise Unregistered(
                f"takes {pattern.params} but is not registered: add it to tests/<app>/url_scopes.py with @register "
                "(see tests/scoping_registry.py)"
            )
        return Case(), False
    return entry.resolver(sw, role), entry.public


class Unregistered(Exception):
    pass


def _client(user=None) -> Client:
    client = Client(raise_request_exception=False)  # a crash is a 500 to report, not the end of the walk
    if user is not None:
        client.force_login(user)
    return client


def _walk_role(pattern: Pattern, sw: ScopeWorld, role: str) -> list[str]:
    failures = []
    case, _public = _resolve(pattern, sw, role)
    checks = [("inside", case.inside, OK_OUTSIDE if case.denied else OK_INSIDE), ("outside", case.outside, OK_OUTSIDE)]
    for label, target, expected in checks:
        if target is None:
            continue
        response = _request(_client(sw.user(role)), pattern, target)
        where = f"{role:10} {label:7} {target.method.upper()} {_url(pattern, target)} {target.query or ''}"
        if response.status_code not in expected:
            failures.append(f"{where} → {response.status_code}, expected one of {sorted(expected)}")
        for leak in _leaks(sw, role, response):
            failures.append(f"{where} → shows {leak}, which is outside the scope of {role}")
    return failures


def _walk_anonymous(pattern: Pattern, sw: ScopeWorld) -> list[str]:
    # The administrator's inside target exists for every pattern.
    case, public = _resolve(pattern, sw, Role.ADMIN)
    if case.inside is None or public:
        return []
    response = _request(_client(), pattern, case.inside)
    where = f"anonymous  {case.inside.method.upper()} {_url(pattern, case.inside)}"
    if pattern.route.startswith("api/"):
        if response.status_code != 401:
            return [f"{where} → {response.status_code}, expected 401"]
    elif response.status_code != 302 or not response["Location"].startswith("/login/"):
        return [f"{where} → {response.status_code} {response.get('Location', '')}, expected 302 to /login/"]
    return []


def walk(pattern: Pattern, sw: ScopeWorld) -> list[str]:
    """Every role and an anonymous visitor on one pattern. Each in its own savepoint, rolled back after,
    so that what one role's resolver creates (or a failed statement on PostgreSQL) cannot touch the next."""
    failures = []
    for role in [*Role.values, None]:
        savepoint = transaction.savepoint()
        try:
            failures += _walk_anonymous(pattern, sw) if role is None else _walk_role(pattern, sw, role)
        except Unregistered as exc:
            return [str(exc)]
        except Exception as exc:  # a resolver that fails is reported with the pattern, not as a crash
            failures.append(f"{role or 'anonymous'}: {type(exc).__name__}: {exc}")
        finally:
            transaction.savepoint_rollback(savepoint)
    return failures


def _group(pattern: Pattern) -> str:
    """One test per app (or API router): the shared world is built once per group, not per pattern."""
    if pattern.route.startswith("api/"):
        return "api/" + pattern.route.split("/")[1]
    return pattern.name.split(":")[0] if ":" in pattern.name else "root"


GROUPS = sorted({_group(p) for p in WALKED})


@pytest.mark.parametrize("group", GROUPS)
def test_scope_walk(group: str, world):
    sw = ScopeWorld(world)
    report = []
    for pattern in (p for p in WALKED if _group(p) == group):
        failures = walk(pattern, sw)
        if failures:
            report.append(f"{pattern.name} ({pattern.route}):\n  " + "\n  ".join(failures))
    assert not report, (
        "Scope walk:\n"
        + "\n".join(report)
        + "\nIf this is right (a page closed to a role, a POST-only view, a query parameter), say so by registering"
        " the pattern in tests/<app>/url_scopes.py: Case(denied=True), Target(method='post'), Target(query=...)."
    )
