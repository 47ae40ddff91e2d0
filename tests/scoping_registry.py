"""Which objects every URL pattern is walked with, for the scope walk in `tests/test_url_scoping.py`.

The walk requests every URL pattern of `lookback.urls` as every role of `accounts.roles.Role` and as
an anonymous visitor. A pattern that takes an argument (an id, a code) cannot be walked blindly: it
must be REGISTERED here with a function that, for a role, returns a target inside the role's scope
and, where one exists, a target outside it. An unregistered pattern with arguments makes the walk
fail. Patterns without arguments are walked with a plain GET; register them too when they need a
query string, a POST, or are closed to some roles.

Expectations (checked by the walk):
- inside → 200 or 302; outside → 403 or 404; never a 5xx;
- a role the page is closed to (`Case(denied=True)`) → 403 or 404;
- every 200 page contains no 户编号 or ID number of a household the role may not see;
- anonymous → 302 to /login/ (401 under /api/), unless the pattern is registered `public=True`.

How a new app registers its patterns: put a module `tests/<app>/url_scopes.py` (it is imported
automatically) with entries like

    from tests.scoping_registry import Case, ScopeWorld, Target, register

    @register("ledger:problem_detail")
    def _problem(sw: ScopeWorld, role: str) -> Case:
        inside = make_problem(household=sw.inside(role))
        outside_household = sw.outside(role)  # None for roles that see everything (administrator)
        outside = make_problem(household=outside_household) if outside_household else None
        return Case(inside=Target(kwargs={"pk": inside.pk}), outside=outside and Target(kwargs={"pk": outside.pk}))

The resolver is called once per role, inside a savepoint that is rolled back after that role's
requests: create what you need freely, nothing carries over to the next role.

`ScopeWorld` (built from the shared `world` fixture) knows, for each role, a household inside and
one outside its scope, and a division inside and one outside; build your objects on those. The name
is the namespaced URL name (`app_name:name`; the API's are `api-1.0.0:<operation>`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lookback.accounts.models import User
from lookback.accounts.roles import Role
from lookback.divisions.models import Division
from lookback.registry.models import Household
from tests import factories as f


@dataclass
class Target:
    """One request: URL kwargs, query string, method and form data."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    inside: Target | None = field(default_factory=Target)
    outside: Target | None = None
    denied: bool = False  # the role may not use this page at all: `inside` must be 403/404 too


Resolver = Callable[["ScopeWorld", str], Case]


@dataclass
class Entry:
    name: str
    resolver: Resolver
    public: bool = False  # reachable without logging in (the login page, logout)


REGISTRY: dict[str, Entry] = {}

# Patterns the walk skips, each with the reason. Keep this list short.
ALLOW_LIST: dict[str, str] = {
    # Django's admin keeps its own permission checks (is_staff); tests/accounts covers the user page.
    "admin:*": "Django admin",
    # The OpenAPI schema and its docs page hold no data; tests/api checks both.
    "api-1.0.0:openapi-json": "API schema (tests/api)",
    "api-1.0.0:openapi-view": "API docs page (tests/api)",
    # django-ninja's root view only names the docs URL and always answers 404.
    "api-1.0.0:api-root": "django-ninja root (always 404)",
    # Static and uploaded files are served by whitenoise/the web server, not by URL patterns; listed
    # here so a DEBUG-only static() pattern cannot break the walk.
    "static": "static files",
}


def register(name: str, *, public: bool = False) -> Callable[[Resolver], Resolver]:
    def decorator(func: Resolver) -> Resolver:
        if name in REGISTRY:
            raise ValueError(f"URL pattern {name!r} is registered twice ({REGISTRY[name].resolver} and {func})")
        REGISTRY[name] = Entry(name=name, resolver=func, public=public)
        return func

    return decorator


def is_allowed(name: str) -> bool:
    return name in ALLOW_LIST or any(
        key.endswith("*") and name.startswith(key[:-1]) for key in ALLOW_LIST if key.endswith("*")
    )


def load_app_registrations() -> None:
    """Import every `tests/<app>/url_scopes.py` so that its @register entries exist."""
    tests_dir = Path(__file__).resolve().parent
    for info in pkgutil.iter_modules([str(tests_dir)]):
        if info.ispkg and (tests_dir / info.name / "url_scopes.py").exists():
            importlib.import_module(f"tests.{info.name}.url_scopes")


class ScopeWorld:
    """The shared `world`, plus what a full walk needs: a place outside the city (so the city-wide
    roles have an "outside" too) and a household in the helper's own village that is not theirs."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.users: dict[str, User] = world.users
        city = Division.objects.create(code="350200000000", name="厦门市", level="city")
        county = Division.objects.create(code="350203000000", name="思明区", level="county", parent=city)
        township = Division.objects.create(code="350203001000", name="鼓浪屿街道", level="township", parent=county)
        village = Division.objects.create(code="350203001001", name="龙头社区", level="village", parent=township)
        self.xiamen_village = village
        self.xiamen = f.make_household(village.code, head_name="郑海生", head_id_number=f.id_number("350203"))
        f.make_member(self.xiamen, name="郑海生")
        # Same village as the helper's household, not assigned to the helper.
        self.unassigned = f.make_household(f.SONGKOU_VILLAGE, head_name="黄丽芳")
        f.make_member(self.unassigned, name="黄丽芳", sex="女")
        w = world
        self.households: list[Household] = [w.songkou, w.village_other, w.yongtai_other, w.minqing, self.xiamen]
        self.households.append(self.unassigned)
        # Written out by hand, not computed with the selectors under test.
        everything = set(self.households)
        fuzhou = everything - {self.xiamen}
        self._visible: dict[str, set[Household]] = {
            Role.CITY: fuzhou,
            Role.SUPERVISOR: fuzhou,
            Role.COUNTY: {w.songkou, w.village_other, w.yongtai_other, self.unassigned},
            Role.REVIEWER: {w.songkou, w.village_other, w.yongtai_other, self.unassigned},
            Role.TOWNSHIP: {w.songkou, w.village_other, self.unassigned},
            Role.VILLAGE: {w.songkou, self.unassigned},
            Role.HELPER: {w.songkou},
            Role.ADMIN: everything,
        }
        self._outside: dict[str, Household | None] = {
            Role.CITY: self.xiamen,
            Role.SUPERVISOR: self.xiamen,
            Role.COUNTY: w.minqing,
            Role.REVIEWER: w.minqing,
            Role.TOWNSHIP: w.yongtai_other,
            Role.VILLAGE: w.village_other,
            Role.HELPER: self.unassigned,
            Role.ADMIN: None,
        }

    def user(self, role: str) -> User:
        return self.users[role]

    def inside(self, role: str) -> Household:
        """A household every role can see (the helper's own, in 嵩口镇's first village)."""
        return self.world.songkou

    def outside(self, role: str) -> Household | None:
        """A household just outside the role's scope; None for the administrator, who sees all."""
        return self._outside[role]

    def visible(self, role: str) -> set[Household]:
        return self._visible[role]

    def invisible(self, role: str) -> set[Household]:
        return set(self.households) - self._visible[role]

    def division_inside(self, role: str) -> Division:
        user = self.users[role]
        return user.scope or f.division(f.CITY)

    def division_outside(self, role: str) -> Division | None:
        """A division at the level of the role's scope, just outside it; None for the administrator."""
        # A helper's division scope is their township; the household next door is inside it.
        outside = self.world.yongtai_other if role == Role.HELPER else self._outside[role]
        scope = self.users[role].scope
        if outside is None or scope is None:
            return None
        return _same_level_outside(scope, outside.village)


def _same_level_outside(scope: Division, outside_village: Division) -> Division:
    """The division at the scope's level that contains `outside_village`."""
    node = outside_village
    while node.level != scope.level and node.parent_id:
        node = node.parent
    return node


# --- The foundation's own patterns -------------------------------------------------------------


@register("home")
def _home(sw: ScopeWorld, role: str) -> Case:
    return Case()


@register("accounts:login", public=True)
def _login(sw: ScopeWorld, role: str) -> Case:
    return Case()  # a logged-in user is sent on (302)


@register("accounts:logout", public=True)
def _logout(sw: ScopeWorld, role: str) -> Case:
    return Case(inside=Target(method="post"))


@register("accounts:revoke_token")
def _revoke_token(sw: ScopeWorld, role: str) -> Case:
    from lookback.accounts.models import ApiToken

    own, _key = ApiToken.issue(user=sw.user(role), name="own")
    # Another user's token is outside every role's reach, the administrator's included.
    other_role = Role.CITY if role != Role.CITY else Role.COUNTY
    theirs, _key = ApiToken.issue(user=sw.user(other_role), name="theirs")
    return Case(
        inside=Target(kwargs={"token_id": own.pk}, method="post"),
        outside=Target(kwargs={"token_id": theirs.pk}, method="post"),
    )


@register("registry:household_detail")
def _household_detail(sw: ScopeWorld, role: str) -> Case:
    outside = sw.outside(role)
    return Case(
        inside=Target(kwargs={"pk": sw.inside(role).pk}),
        outside=Target(kwargs={"pk": outside.pk}) if outside else None,
    )


@register("registry:division_options")
def _division_options(sw: ScopeWorld, role: str) -> Case:
    # The htmx cascade asks for the children of a division; a division outside the scope is 404.
    inside = sw.division_inside(role)
    outside = sw.division_outside(role)
    return Case(
        inside=Target(query={"parent": inside.code}),
        outside=Target(query={"parent": outside.code}) if outside else None,
    )


@register("api-1.0.0:get_household_detail")
def _api_household(sw: ScopeWorld, role: str) -> Case:
    outside = sw.outside(role)
    return Case(
        inside=Target(kwargs={"household_id": sw.inside(role).pk}),
        outside=Target(kwargs={"household_id": outside.pk}) if outside else None,
    )


@register("api-1.0.0:get_division")
def _api_division(sw: ScopeWorld, role: str) -> Case:
    outside = sw.division_outside(role)
    return Case(
        inside=Target(kwargs={"code": sw.division_inside(role).code}),
        outside=Target(kwargs={"code": outside.code}) if outside else None,
    )
