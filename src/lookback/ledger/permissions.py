"""Who may do what in the ledger, and the levels that maker-checker compares.

Kept here rather than in `accounts.roles.CAPABILITIES` because these rules are the ledger's own and
depend on the problem as well as the role (levels, the one who marked it rectified).
"""

from __future__ import annotations

from typing import Any

from lookback.accounts.roles import Role
from lookback.ledger.models import Level

# Roles that work problems: fill plans, attach evidence, mark rectified, verify (subject to maker-checker).
WORK_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.CITY})
# Roles that may enter problems: the workers, helpers (from their visits) and review teams.
CREATE_ROLES = WORK_ROLES | {Role.HELPER, Role.REVIEWER}
# Bulk assignment and deadlines are the township's job and above.
BULK_ROLES = frozenset({Role.TOWNSHIP, Role.COUNTY, Role.CITY})
ACCOUNTABILITY_READ_ROLES = frozenset({Role.CITY, Role.SUPERVISOR, Role.ADMIN})
ACCOUNTABILITY_WRITE_ROLES = frozenset({Role.CITY})
REPORT_WRITE_ROLES = frozenset({Role.TOWNSHIP})
REPORT_REVIEW_ROLES = frozenset({Role.COUNTY, Role.CITY})
SELF_CHECK_ROLES = frozenset({Role.TOWNSHIP, Role.COUNTY})

_ROLE_LEVEL = {
    Role.HELPER: Level.VILLAGE,
    Role.VILLAGE: Level.VILLAGE,
    Role.TOWNSHIP: Level.TOWNSHIP,
    Role.COUNTY: Level.COUNTY,
    Role.CITY: Level.CITY,
}
_SCOPE_LEVEL = {
    "village": Level.VILLAGE,
    "township": Level.TOWNSHIP,
    "county": Level.COUNTY,
    "city": Level.CITY,
    "province": Level.CITY,
}


def _role(user: Any) -> str:
    return getattr(user, "role", "") if getattr(user, "is_authenticated", False) and user.is_active else ""


def user_level(user: Any) -> int:
    """village < township < county < city, by role; review teams by the level of their scope."""
    role = _role(user)
    if role in _ROLE_LEVEL:
        return int(_ROLE_LEVEL[role])
    scope = getattr(user, "scope", None)
    return int(_SCOPE_LEVEL.get(scope.level, Level.SYSTEM)) if scope else int(Level.SYSTEM)


def can_create(user: Any) -> bool:
    return _role(user) in CREATE_ROLES


def can_work(user: Any) -> bool:
    return _role(user) in WORK_ROLES


def can_bulk(user: Any) -> bool:
    return _role(user) in BULK_ROLES


def can_read_accountability(user: Any) -> bool:
    return _role(user) in ACCOUNTABILITY_READ_ROLES or bool(getattr(user, "is_superuser", False))


def can_write_accountability(user: Any) -> bool:
    return _role(user) in ACCOUNTABILITY_WRITE_ROLES


def can_write_report(user: Any) -> bool:
    return _role(user) in REPORT_WRITE_ROLES


def can_review_report(user: Any) -> bool:
    return _role(user) in REPORT_REVIEW_ROLES


def can_self_check(user: Any) -> bool:
    return _role(user) in SELF_CHECK_ROLES
