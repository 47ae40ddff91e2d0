"""The interface language: Chinese for everyone, English only for whoever chose it — never the browser's.

Each test sends `Accept-Language: en-US` (as the browser tests' Chromium and most English office machines
do): the language must not follow it.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

from lookback.accounts.models import ApiToken
from lookback.accounts.roles import Role

EN_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


@pytest.fixture(autouse=True)
def _reset_language():
    # The middleware leaves the request's language active in the thread, as LocaleMiddleware does.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def county(client, world):
    user = world.users[Role.COUNTY]
    client.force_login(user)
    return user


def test_chinese_by_default_even_for_an_english_browser(client, county):
    response = client.get("/", **EN_BROWSER)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body
    assert "问题台帐" in body and "退出" in body
    assert "Problem ledger" not in body and "Sign out" not in body
    assert response["Content-Language"] == "zh-hans"


def test_login_page_is_chinese_for_an_english_browser(client, db):
    body = client.get("/login/", **EN_BROWSER).content.decode()
    assert "请使用本单位分配的账号登录" in body and "Sign in with the account" not in body
    # The switch names each language in its own language.
    assert 'value="en"' in body and ">English</button>" in body and ">中文</button>" in body


def test_a_user_who_chose_english_gets_english_pages(client, county):
    county.language = "en"
    county.save(update_fields=["language"])
    response = client.get("/", **EN_BROWSER)
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "Problem ledger" in body and "Sign out" in body
    assert "问题台帐" not in body and "退出" not in body
    profile = client.get("/profile/").content.decode()
    assert "My account" in profile and "API tokens" in profile and "个人中心" not in profile


def test_choosing_english_on_the_profile_page_is_stored_on_the_account(client, county):
    page = client.get("/profile/").content.decode()
    assert "界面语言" in page and 'value="en"' in page and "English" in page
    response = client.post("/language/", {"language": "en", "next": "/profile/"})
    assert response.status_code == 302 and response["Location"] == "/profile/"
    county.refresh_from_db()
    assert county.language == "en"
    # Stored on the account, not in a cookie: the next person on this computer is not affected.
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    followed = client.get("/profile/", **EN_BROWSER).content.decode()
    assert "Interface language saved." in followed and "Interface language" in followed
    # Back to Chinese.
    client.post("/language/", {"language": "zh-hans", "next": "/profile/"})
    county.refresh_from_db()
    assert county.language == "zh-hans"
    assert "个人中心" in client.get("/profile/", **EN_BROWSER).content.decode()


def test_the_choice_follows_the_account_to_another_browser(client, county, world):
    from django.test import Client

    client.post("/language/", {"language": "en", "next": "/"})
    other = Client()
    other.force_login(county)
    assert "Problem ledger" in other.get("/", **EN_BROWSER).content.decode()
    # ...and another user on the first browser still gets Chinese.
    client.force_login(world.users[Role.TOWNSHIP])
    assert "问题台帐" in client.get("/", **EN_BROWSER).content.decode()


def test_login_page_switch_sets_a_cookie_for_the_sign_in_pages_only(client, world):
    response = client.post("/language/", {"language": "en", "next": "/login/?next=/ledger/"})
    assert response.status_code == 302 and response["Location"] == "/login/?next=/ledger/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en" and cookie["httponly"]
    login = client.get("/login/").content.decode()
    assert "Sign in with the account assigned by your unit" in login and '<html lang="en">' in login
    # A refused login answers in the chosen language too.
    refused = client.post("/login/", {"username": "t-county", "password": "wrong"}).content.decode()
    assert "Wrong username or password." in refused
    # Signed in, the account's own choice (none yet: the default) wins over the cookie.
    client.force_login(world.users[Role.COUNTY])
    assert "问题台帐" in client.get("/").content.decode()


def test_an_unknown_language_is_refused_and_nothing_changes(client, county):
    response = client.post("/language/", {"language": "fr", "next": "/profile/"})
    assert response.status_code == 400
    assert "不支持的界面语言。" in response.content.decode()
    county.refresh_from_db()
    assert county.language == ""


def test_a_forged_cookie_or_stored_value_falls_back_to_chinese(client, county):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    client.logout()
    assert "请使用本单位分配的账号登录" in client.get("/login/").content.decode()
    county.language = "xx"  # not through the form: e.g. an old value left in the database
    county.save(update_fields=["language"])
    client.force_login(county)
    assert "问题台帐" in client.get("/").content.decode()


def test_next_must_stay_on_this_site(client, county):
    response = client.post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/profile/"


def test_set_language_is_post_only(client, county):
    assert client.get("/language/?language=en").status_code == 405
    county.refresh_from_db()
    assert county.language == ""


def test_api_errors_follow_the_session_users_choice(client, county):
    response = client.get("/api/households/999999999", **EN_BROWSER)
    assert response.status_code == 404
    assert response.json()["detail"] == "找不到该户，或它不在您的管辖范围内。"
    county.language = "en"
    county.save(update_fields=["language"])
    response = client.get("/api/households/999999999", **EN_BROWSER)
    assert response.json()["detail"] == "Household not found, or outside your scope."


def test_api_errors_follow_the_token_owners_choice(client, world):
    user = world.users[Role.COUNTY]
    _token, key = ApiToken.issue(user=user, name="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", **EN_BROWSER}
    assert client.get("/api/households/999999999", **headers).json()["detail"] == "找不到该户，或它不在您的管辖范围内。"
    user.language = "en"
    user.save(update_fields=["language"])
    detail = client.get("/api/households/999999999", **headers).json()["detail"]
    assert detail == "Household not found, or outside your scope."
    # An unknown token stays in the default language (and is refused).
    refused = client.get("/api/households/999999999", HTTP_AUTHORIZATION="Bearer lb_nope", **EN_BROWSER)
    assert refused.status_code == 401 and refused.json()["detail"] == "未登录或令牌无效"


def test_plural_forms_in_english(client, county, world):
    county.language = "en"
    county.save(update_fields=["language"])
    body = client.get("/households/").content.decode()
    # The county (永泰县) sees three households of the shared world: 嵩口镇's two and one in another township.
    assert "Exited households" in body and "3 households</small>" in body
    with translation.override("en"):
        assert translation.ngettext("共 %(counter)s 户", "共 %(counter)s 户", 1) % {"counter": 1} == "1 household"
        assert translation.ngettext("共 %(counter)s 户", "共 %(counter)s 户", 3) % {"counter": 3} == "3 households"


def test_login_page_switch_markup(client, db):
    body = client.get("/login/").content.decode()
    # Only the sign-in button is a typed submit button (the browser tests click "button[type=submit]"),
    # and no template comment leaks into the page.
    assert body.count('type="submit"') == 1
    assert "{#" not in body and "#}" not in body and "sign-in button" not in body
    assert 'aria-current="true">中文</button>' in body


def test_change_history_marks_an_empty_value_in_the_users_language(client, county, world):
    household = world.yongtai_other
    household.phone = ""
    household.save()
    household.phone = "13800000000"
    household.save()
    url = f"/households/{household.pk}/"
    assert "（空） → 13800000000" in client.get(url).content.decode()
    county.language = "en"
    county.save(update_fields=["language"])
    body = client.get(url).content.decode()
    assert "(empty) → 13800000000" in body and "（空）" not in body


def test_the_scope_in_the_menu_gives_way_to_the_longer_english_labels(client, county):
    chinese = client.get("/").content.decode()
    scope_item = chinese[chinese.index('id="nav-scope"') - 80 : chinese.index('id="nav-scope"')]
    assert "d-lg-none" not in scope_item  # Chinese fits on one line at 1280 px with it
    county.language = "en"
    county.save(update_fields=["language"])
    english = client.get("/").content.decode()
    scope_item = english[english.index('id="nav-scope"') - 80 : english.index('id="nav-scope"')]
    assert "d-lg-none d-xxl-flex" in scope_item
    # still there as the account link's tooltip
    assert f'title="{county.scope.full_name()} · County poverty office"' in english


def test_an_account_without_a_division_shows_its_role_alone(client, world):
    client.force_login(world.users[Role.ADMIN])
    body = client.get("/").content.decode()
    start = body.index('id="nav-scope"')
    item = body[start : body.index("</li>", start)]
    assert "系统管理员" in item and "·" not in item  # it read " · 系统管理员"
