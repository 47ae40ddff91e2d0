from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar needs: the user's role label and scope name."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = getattr(user, "scope", None)
    role = user.get_role_display() if hasattr(user, "get_role_display") else ""
    scope_name = scope.full_name() if scope else ""
    return {
        "nav_role": role,
        "nav_scope": scope_name,
        # The menu's "scope · role"; the role alone for an account without a division (the administrator).
        "nav_label": f"{scope_name} · {role}" if scope_name else role,
    }
