"""API tokens: issued on the profile page and shown once, usable on /api/, dead once revoked."""

from __future__ import annotations

import re

import pytest

from lookback.accounts.models import ApiToken
from lookback.accounts.roles import Role


def _issue(client, name: str = "县大数据平台对接") -> str:
    response = client.post("/profile/", {"name": name})
    assert response.status_code == 200
    match = re.search(r'<code id="new-token"[^>]*>([^<]+)</code>', response.content.decode())
    assert match, "the new token is shown on the page"
    return match.group(1)


@pytest.fixture
def county(client, world):
    user = world.users[Role.COUNTY]
    client.force_login(user)
    return user


def test_profile_page(client, county):
    response = client.get("/profile/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "个人中心" in body and "t-county" in body and "县扶贫办" in body and "永泰县" in body
    assert "还没有令牌。" in body


def test_token_is_shown_once_and_only_its_hash_is_stored(client, county):
    key = _issue(client)
    assert key.startswith("lb_") and len(key) > 40
    token = ApiToken.objects.get(user=county)
    assert token.name == "县大数据平台对接" and token.prefix == key[:8]
    assert key not in token.key_hash and token.key_hash == ApiToken.hash_key(key)
    body = client.get("/profile/").content.decode()
    assert key not in body
    assert token.prefix in body and "有效" in body


def test_token_authenticates_the_api_as_its_user(client, county, world):
    key = _issue(client)
    client.logout()
    anon = client.get("/api/households/")
    assert anon.status_code == 401 and anon.json()["detail"] == "未登录或令牌无效"
    response = client.get("/api/households/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    names = {item["head_name"] for item in response.json()["items"]}
    assert names == {"王建华", "陈秀英", "李明"}  # the county's households, not 闽清's
    assert ApiToken.objects.get(user=county).last_used_at is not None


def test_revoked_token_gets_401(client, county):
    key = _issue(client)
    token = ApiToken.objects.get(user=county)
    response = client.post(f"/profile/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/profile/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "已吊销" in client.get("/profile/").content.decode()
    client.logout()
    response = client.get("/api/households/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    # Revoking twice is harmless.
    client.force_login(county)
    assert client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302


def test_revoke_is_post_only_and_only_for_own_tokens(client, county, world):
    token, _key = ApiToken.issue(user=world.users[Role.CITY], name="city")
    assert client.get(f"/profile/tokens/{token.pk}/revoke/").status_code == 405
    assert client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_of_inactive_user_gets_401(client, county):
    key = _issue(client)
    county.is_active = False
    county.save()
    client.logout()
    assert client.get("/api/households/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


@pytest.mark.parametrize("header", ["Bearer lb_nonsense", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz"])
def test_bad_authorization_headers_get_401(client, db, header):
    response = client.get("/api/households/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录或令牌无效"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_token_name_gives_chinese_message_and_400(client, county, name):
    response = client.post("/profile/", {"name": name})
    assert response.status_code == 400
    body = response.content.decode()
    assert "这个字段是必填项。" in body or "不超过 100 字符" in body
    assert not ApiToken.objects.exists()
