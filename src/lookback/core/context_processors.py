from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar needs: the user's role label and scope name."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = getattr(user, "scope", None)
    return {
        "nav_role": user.get_role_display() if hasattr(user, "get_role_display") else "",
        "nav_scope": scope.full_name() if scope else "",
    }
