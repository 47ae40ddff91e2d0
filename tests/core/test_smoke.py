import pytest

from lookback.accounts.roles import Role


@pytest.mark.django_db
def test_world_scopes(world):
    from lookback.registry.selectors import households_for_user

    seen = {role: set(households_for_user(u).values_list("head_name", flat=True)) for role, u in world.users.items()}
    assert seen[Role.CITY] == {"王建华", "陈秀英", "李明", "张伟"}
    assert seen[Role.COUNTY] == {"王建华", "陈秀英", "李明"}
    assert seen[Role.TOWNSHIP] == {"王建华", "陈秀英"}
    assert seen[Role.VILLAGE] == {"王建华"}
    assert seen[Role.HELPER] == {"王建华"}
