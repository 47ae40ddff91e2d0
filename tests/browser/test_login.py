"""In Chromium: the Chinese login form, a wrong password, logging in and out."""

from __future__ import annotations

import pytest

from lookback.accounts.roles import Role
from tests import factories as f
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_login_wrong_password_then_right_then_logout(page) -> None:
    f.make_user(Role.COUNTY, f.YONGTAI, "b-county", last_name="陈", first_name="立新")
    page.goto(page.base_url + "/households/")
    assert page.url.startswith(page.base_url + "/login/")
    assert page.locator("h1").inner_text() == "稳定脱贫“回头看”工作平台"
    assert page.locator("label[for=id_username]").inner_text() == "用户名"

    page.fill("input[name=username]", "b-county")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "用户名或密码不正确" in page.locator(".alert-danger").inner_text()
    screenshot(page, "login-wrong-password")

    page.fill("input[name=username]", "b-county")
    page.fill("input[name=password]", "lookback-test-pw")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    # Back to the page that was asked for, with the user's name and scope in the navigation.
    assert page.url == page.base_url + "/households/"
    assert "陈立新" in page.locator("nav").inner_text()
    assert "永泰县" in page.locator("nav").inner_text()

    page.click("nav button:has-text('退出')")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(page.base_url + "/login/")
    page.goto(page.base_url + "/")
    assert page.url.startswith(page.base_url + "/login/")


def test_login_on_a_phone(page) -> None:
    f.make_user(Role.HELPER, f.SONGKOU, "b-helper")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/login/")
    screenshot(page, "login-phone")
    box = page.locator("button[type=submit]").bounding_box()
    assert box and box["width"] > 300  # the form fills the phone's width
    login(page, "b-helper")
    assert "我帮扶的户" in page.content()
    # The menu is collapsed behind the toggler on a phone.
    assert not page.locator("#nav").is_visible()
    page.click(".navbar-toggler")
    page.wait_for_selector("#nav.collapse.show")  # the opening animation has ended
    screenshot(page, "home-helper-phone")
