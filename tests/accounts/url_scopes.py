"""The accounts app's patterns beyond the foundation's (see tests/scoping_registry.py)."""

from tests.scoping_registry import Case, ScopeWorld, Target, register


@register("accounts:set_language", public=True)
def _set_language(sw: ScopeWorld, role: str) -> Case:
    # Public: the login page's 中文 / English switch posts here before anyone has signed in.
    return Case(inside=Target(method="post", data={"language": "zh-hans", "next": "/"}))
