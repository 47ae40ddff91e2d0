"""Reading divisions. The tree is public reference data, but lists offered to a user stay in scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from lookback.divisions.models import Division


def divisions_for_user(user: Any) -> QuerySet[Division]:
    """Divisions inside the user's scope, plus the ones above it (so breadcrumbs resolve)."""
    prefix = getattr(user, "scope_prefix", None)
    if prefix is None or not getattr(user, "is_authenticated", False):
        return Division.objects.none()
    if prefix == "":
        return Division.objects.all()
    return Division.objects.filter(code__startswith=prefix)


def children_in_scope(user: Any, parent_code: str | None) -> QuerySet[Division]:
    qs = divisions_for_user(user)
    if parent_code:
        return qs.filter(parent__code=parent_code)
    root = user_root_division(user)
    if root is None:
        # Administrators have no scope division: start from the top of the tree.
        return qs.filter(parent__isnull=True)
    return qs.filter(Q(parent=root))


def user_root_division(user: Any) -> Division | None:
    return getattr(user, "scope", None)


def get_division_in_scope(user: Any, code: str) -> Division | None:
    return divisions_for_user(user).filter(code=code).first()
