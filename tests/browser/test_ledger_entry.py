"""In Chromium at phone width (390×844): a village team member types a 户编号 into the problem entry form,
the household's members appear (htmx), one is chosen and the problem is saved about that member.
Typing a 户编号 of another village shows no members."""

from __future__ import annotations

import pytest

from lookback.ledger.models import Problem
from tests import factories as f
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}


def test_choose_a_member_on_a_phone(page, world) -> None:
    spouse = f.make_member(world.songkou, name="刘美兰", relation="配偶", sex="女")
    page.set_viewport_size(PHONE)
    login(page, "t-village")
    page.goto(page.base_url + "/ledger/new/")

    page.fill("#id_household_no", world.village_other.household_no)  # another village: not in scope
    page.wait_for_selector("#household-lookup .text-danger")
    assert page.locator("#id_member").count() == 0

    page.fill("#id_household_no", world.songkou.household_no)
    page.wait_for_selector("#id_member")
    options = page.locator("#id_member option").all_inner_texts()
    assert options[1].startswith("王建华（户主）") and "刘美兰（配偶）" in options
    page.select_option("#id_member", str(spouse.pk))
    page.select_option("#id_source", "visit")
    page.fill("#id_description", "配偶未参加医疗叠加保险")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "ledger-entry-member-phone")
    page.click("#save-problem")
    page.wait_for_selector("#problem-state")
    problem = Problem.objects.get()
    assert problem.household == world.songkou and problem.member == spouse
    assert "刘美兰" in page.content()
