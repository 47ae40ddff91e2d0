import pytest

from lookback.accounts.models import ApiToken
from lookback.accounts.roles import Role


@pytest.mark.django_db
def test_run_body_must_be_an_object(client, world):
    key = ApiToken.issue(user=world.users[Role.TOWNSHIP], name="t")[1]
    r = client.post(
        "/api/checks/runs", data="[1, 2]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert r.status_code == 422, r.content
    assert "JSON 对象" in r.json()["detail"]
