import pytest

from lookback.accounts.roles import Role

ADMIN_PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    "/admin/accounts/user/add/",
    "/admin/registry/household/",
    "/admin/registry/member/",
    "/admin/registry/helper/",
    "/admin/registry/assignment/",
    "/admin/registry/measure/",
    "/admin/registry/visit/",
    "/admin/registry/archivecheck/",
    "/admin/registry/archivecheck/add/",
    "/admin/registry/deptlistentry/",
    "/admin/registry/importbatch/",
    "/admin/campaigns/campaign/",
    "/admin/divisions/division/?q=嵩口",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_open_for_the_administrator(client, world, url):
    client.force_login(world.users[Role.ADMIN])
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_admin_change_pages_open(client, world):
    client.force_login(world.users[Role.ADMIN])
    assert client.get(f"/admin/registry/household/{world.songkou.pk}/change/").status_code == 200
    assert client.get(f"/admin/accounts/user/{world.users[Role.COUNTY].pk}/change/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_admin_is_closed_to_other_roles(client, world, role):
    client.force_login(world.users[role])
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
