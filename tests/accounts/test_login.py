"""Login, lockout, logout and session expiry, through real requests to /login/ (axes sees each one)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.utils import timezone

from lookback.accounts.middleware import REFRESHED_KEY, SlidingSessionMiddleware
from lookback.accounts.roles import Role
from tests import factories as f

PASSWORD = "lookback-test-pw"


@pytest.fixture
def county_user(db):
    return f.make_user(Role.COUNTY, f.YONGTAI, "yt-county")


def _login(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


@pytest.mark.django_db
def test_login_page_is_chinese(client):
    response = client.get("/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    for text in ("稳定脱贫“回头看”工作平台", "用户名", "密码", "登录"):
        assert text in body
    # No navigation for anonymous visitors.
    assert "退出" not in body


def test_protected_pages_send_anonymous_visitors_to_login(client, db):
    response = client.get("/households/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/households/"


def test_login_success_goes_to_next(client, county_user):
    response = client.post("/login/?next=/households/", {"username": "yt-county", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/households/"
    assert client.get("/households/").status_code == 200


def test_wrong_password_gives_chinese_message_and_4xx(client, county_user):
    response = _login(client, "yt-county", "wrong-password-1")
    assert response.status_code == 400
    body = response.content.decode()
    assert "用户名或密码不正确。连续输错 5 次，账号将被锁定 30 分钟。" in body
    assert "_auth_user_id" not in client.session


def test_empty_form_gives_field_messages(client, db):
    response = client.post("/login/", {"username": "", "password": ""})
    assert response.status_code == 400
    assert "这个字段是必填项。" in response.content.decode()


def test_lockout_after_five_failures(client, county_user):
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(4):
        assert _login(client, "yt-county", f"wrong-{attempt}").status_code == 400
    # The fifth failure locks the account for this address; the right password no longer helps.
    locked = _login(client, "yt-county", "wrong-4")
    assert locked.status_code == 429
    assert "账号已暂时锁定" in locked.content.decode()
    again = _login(client, "yt-county", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked (lockout is per user and address).
    f.make_user(Role.COUNTY, f.MINQING, "mq-county")
    assert _login(client, "mq-county", PASSWORD).status_code == 302


def test_failures_below_the_limit_are_forgiven_by_a_success(client, county_user):
    for attempt in range(4):
        _login(client, "yt-county", f"wrong-{attempt}")
    assert _login(client, "yt-county", PASSWORD).status_code == 302
    client.post("/logout/")
    # AXES_RESET_ON_SUCCESS: the counter starts again, so four more failures still do not lock.
    for attempt in range(4):
        assert _login(client, "yt-county", f"wrong-{attempt}").status_code == 400
    assert _login(client, "yt-county", PASSWORD).status_code == 302


def test_logout_is_post_only_and_ends_the_session(client, county_user):
    assert _login(client, "yt-county", PASSWORD).status_code == 302
    assert client.get("/logout/").status_code == 405  # a link or prefetch cannot log anybody out
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_session_expiry_settings(client, county_user):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_REFRESH_SECONDS == 300
    assert settings.SESSION_COOKIE_HTTPONLY is True
    _login(client, "yt-county", PASSWORD)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie


def test_idle_session_expires(client, county_user):
    _login(client, "yt-county", PASSWORD)
    assert client.get("/").status_code == 200
    # Eight idle hours later the server has forgotten the session.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_activity_extends_the_session(client, county_user):
    _login(client, "yt-county", PASSWORD)
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))
    client.get("/")
    remaining = Session.objects.get().expire_date - timezone.now()
    assert remaining > timedelta(hours=7, minutes=59)


def test_inactive_user_cannot_log_in(client, county_user):
    county_user.is_active = False
    county_user.save()
    response = _login(client, "yt-county", PASSWORD)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_logged_in_user_visiting_login_is_sent_home(client, county_user):
    client.force_login(county_user)
    response = client.get("/login/")
    assert response.status_code == 302 and response["Location"] == "/"


def _age_last_refresh(client, seconds: int) -> None:
    session = client.session
    session[REFRESHED_KEY] = session[REFRESHED_KEY] - seconds
    session.save()


def test_polling_does_not_write_the_session_every_request(client, county_user):
    _login(client, "yt-county", PASSWORD)
    client.get("/")  # the first request after sign-in records the refresh
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))
    for _ in range(3):
        assert client.get("/").status_code == 200
    # Within SESSION_REFRESH_SECONDS the row is left alone: no write per poll.
    remaining = Session.objects.get().expire_date - timezone.now()
    assert remaining < timedelta(minutes=6)
    # Once the interval has passed, the next request pushes the expiry back to the full eight hours.
    _age_last_refresh(client, settings.SESSION_REFRESH_SECONDS)
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))
    assert client.get("/").status_code == 200
    assert Session.objects.get().expire_date - timezone.now() > timedelta(hours=7, minutes=59)


def test_a_refresh_that_cannot_be_written_does_not_fail_the_page(client, county_user, monkeypatch, caplog):
    # What SQLite does while an import holds its write lock: the session save times out.
    _login(client, "yt-county", PASSWORD)
    client.get("/")
    _age_last_refresh(client, settings.SESSION_REFRESH_SECONDS)

    def locked(self, must_create=False):
        raise UpdateError

    monkeypatch.setattr(SessionStore, "save", locked)
    response = client.get("/")
    assert response.status_code == 200 and "退出" in response.content.decode()
    assert "Cookie" in response["Vary"]
    assert "session expiry not refreshed" in caplog.text
    # The session is still valid afterwards.
    monkeypatch.undo()
    assert client.get("/").status_code == 200


def test_a_changed_session_that_cannot_be_written_still_fails(county_user, rf, monkeypatch):
    # A change the request made (not just the expiry) must not be lost silently: Django's 400 stands.
    def locked(self, must_create=False):
        raise UpdateError

    request = rf.get("/")
    middleware = SlidingSessionMiddleware(lambda request: HttpResponse("ok"))
    middleware.process_request(request)
    request.session["filter"] = "永泰县"
    request.session.save()
    request.session["filter"] = "闽清县"
    monkeypatch.setattr(SessionStore, "save", locked)
    with pytest.raises(SessionInterrupted):
        middleware.process_response(request, HttpResponse("ok"))
