"""API fixtures: one token per role of the shared `world`."""

from __future__ import annotations

import pytest

from lookback.accounts.models import ApiToken


@pytest.fixture
def tokens(world) -> dict[str, str]:
    """role → a plain bearer token of that role's user."""
    return {role: ApiToken.issue(user=user, name="测试")[1] for role, user in world.users.items()}


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}
