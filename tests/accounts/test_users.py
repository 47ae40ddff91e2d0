"""Users: scope-level rules, capabilities, password rules and the administrator's user page."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from lookback.accounts.models import User
from lookback.accounts.roles import VIEW_PII, Role
from tests import factories as f


def _user(role: str, scope_code: str | None, **extra) -> User:
    return User(username=f"u-{role}", role=role, scope=f.division(scope_code) if scope_code else None, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.CITY, f.CITY),
        (Role.COUNTY, f.YONGTAI),
        (Role.TOWNSHIP, f.SONGKOU),
        (Role.VILLAGE, f.SONGKOU_VILLAGE),
        (Role.HELPER, f.SONGKOU),
        (Role.HELPER, f.SONGKOU_VILLAGE),
        (Role.REVIEWER, f.YONGTAI),
        (Role.SUPERVISOR, f.CITY),
        (Role.ADMIN, None),
    ],
)
def test_valid_scopes(role, scope):
    _user(role, scope).clean()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "scope", "message"),
    [
        (Role.COUNTY, f.SONGKOU, "角色“县扶贫办”的管辖范围必须是县级行政区划。"),
        (Role.TOWNSHIP, f.YONGTAI, "角色“乡镇扶贫专干”的管辖范围必须是乡镇级行政区划。"),
        (Role.VILLAGE, f.SONGKOU, "角色“驻村工作队”的管辖范围必须是村级行政区划。"),
        (Role.CITY, f.YONGTAI, "角色“市扶贫办”的管辖范围必须是市级行政区划。"),
        (Role.COUNTY, None, "除系统管理员外，每个用户都必须有管辖范围。"),
        (Role.HELPER, None, "除系统管理员外，每个用户都必须有管辖范围。"),
    ],
)
def test_invalid_scopes_are_refused_in_chinese(role, scope, message):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        _user(role, scope).clean()
    assert exc.value.message_dict["scope"] == [message]


@pytest.mark.django_db
def test_scope_prefix_per_level(world):
    prefixes = {role: user.scope_prefix for role, user in world.users.items()}
    assert prefixes == {
        Role.CITY: "3501",
        Role.COUNTY: "350125",
        Role.TOWNSHIP: "350125101",
        Role.VILLAGE: "350125101001",
        Role.HELPER: "350125101",
        Role.REVIEWER: "350125",
        Role.SUPERVISOR: "3501",
        Role.ADMIN: "",
    }
    # A user without a scope sees nothing at all (None), not everything ("").
    assert User(username="x", role=Role.COUNTY).scope_prefix is None


@pytest.mark.django_db
def test_personal_data_permission(world):
    can = {role: user.can(VIEW_PII) for role, user in world.users.items()}
    assert can[Role.TOWNSHIP] and can[Role.COUNTY] and can[Role.HELPER] and can[Role.ADMIN]
    assert not can[Role.REVIEWER] and not can[Role.SUPERVISOR]
    township = world.users[Role.TOWNSHIP]
    township.is_active = False
    assert not township.can(VIEW_PII)


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Fz2018ab", "密码长度太短，至少需要 10 个字符。"),
        ("1234567890123", "密码只包含数字。"),
        ("password123", "这个密码太常见了。"),
    ],
)
def test_password_rules(password, fragment):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert fragment in " ".join(exc.value.messages)


def test_password_rules_accept_a_good_password():
    validate_password("Yongtai-2018-hj")


def test_password_must_not_resemble_the_username():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        validate_password("songkou-officer", User(username="songkou-officer"))
    assert "相似" in " ".join(exc.value.messages)


# --- The administrator's user page (Django admin) ------------------------------------------------


def _add_user(client, **fields):
    data = {"username": "new-officer", "password1": "Songkou-2018-x", "password2": "Songkou-2018-x"}
    data.update(fields)
    return client.post("/admin/accounts/user/add/", data)


@pytest.mark.django_db
def test_admin_creates_a_user_with_a_scope(client, world):
    client.force_login(world.users[Role.ADMIN])
    assert client.get("/admin/accounts/user/").status_code == 200
    response = _add_user(client, role=Role.TOWNSHIP, scope=f.division(f.SONGKOU).pk)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="new-officer")
    assert user.role == Role.TOWNSHIP and user.scope.code == f.SONGKOU
    assert user.check_password("Songkou-2018-x")


@pytest.mark.django_db
def test_admin_user_page_refuses_a_scope_of_the_wrong_level(client, world):
    client.force_login(world.users[Role.ADMIN])
    response = _add_user(client, role=Role.TOWNSHIP, scope=f.division(f.YONGTAI).pk)
    assert response.status_code == 200  # Django admin re-renders the form with the message
    assert "角色“乡镇扶贫专干”的管辖范围必须是乡镇级行政区划。" in response.content.decode()
    assert not User.objects.filter(username="new-officer").exists()


@pytest.mark.django_db
def test_admin_user_page_refuses_a_short_password(client, world):
    client.force_login(world.users[Role.ADMIN])
    response = _add_user(
        client, role=Role.COUNTY, scope=f.division(f.YONGTAI).pk, password1="Yt-2018", password2="Yt-2018"
    )
    assert "密码长度太短，至少需要 10 个字符。" in response.content.decode()
    assert not User.objects.filter(username="new-officer").exists()


@pytest.mark.django_db
def test_admin_changes_a_users_scope(client, world):
    client.force_login(world.users[Role.ADMIN])
    county = world.users[Role.COUNTY]
    page = client.get(f"/admin/accounts/user/{county.pk}/change/")
    assert page.status_code == 200 and "角色与管辖范围" in page.content.decode()
    # The administrator can set a user's interface language too (e.g. for someone stuck in one they cannot read).
    assert 'name="language"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMIN])
def test_user_page_is_closed_to_other_roles(client, world, role):
    client.force_login(world.users[role])
    for url in ("/admin/accounts/user/", "/admin/accounts/user/add/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert _add_user(client, role=Role.CITY, scope=f.division(f.CITY).pk).status_code == 302
    assert not User.objects.filter(username="new-officer").exists()
    # No link to the admin in their navigation either.
    assert "系统管理" not in client.get("/").content.decode()
