import pytest

from lookback.accounts.roles import Role
from lookback.registry.selectors import households_by_child_division


@pytest.mark.django_db
def test_breakdown_is_one_level_below_the_scope(world):
    county_rows = households_by_child_division(world.users[Role.COUNTY])
    assert {r["name"]: r["households"] for r in county_rows} == {
        "嵩口镇": 2,
        world.yongtai_other.village.parent.name: 1,
    }
    city_rows = {
        r["name"]: (r["households"], r["members"]) for r in households_by_child_division(world.users[Role.CITY])
    }
    assert city_rows == {"永泰县": (3, 3), "闽清县": (1, 1)}
    township_rows = households_by_child_division(world.users[Role.TOWNSHIP])
    assert sorted(r["households"] for r in township_rows) == [1, 1]
    assert households_by_child_division(world.users[Role.HELPER]) == []
    assert households_by_child_division(world.users[Role.VILLAGE]) == []


@pytest.mark.django_db
def test_home_page_links_each_division_to_its_households(client, world):
    client.force_login(world.users[Role.COUNTY])
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "各地脱贫户" in body and "嵩口镇" in body and "闽清县" not in body
    assert "township=350125101000" in body
