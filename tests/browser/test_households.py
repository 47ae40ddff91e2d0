"""In Chromium: log in, filter the household list through the county → township cascade (htmx), open
a household; as the reviewer, see masked numbers. Screenshots at desktop and phone width."""

from __future__ import annotations

import pytest

from lookback.core.masking import mask_id_number, mask_phone
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}


def _table_names(page) -> set[str]:
    return set(page.locator("#household-table tbody tr td:nth-child(2)").all_inner_texts())


def test_filter_with_the_cascade_and_open_a_household(page, world) -> None:
    login(page, "t-city")
    page.click("nav >> text=脱贫户")
    page.wait_for_load_state("networkidle")
    assert _table_names(page) == {"王建华", "陈秀英", "李明", "张伟"}

    # County → its townships arrive by htmx; township → its villages.
    with page.expect_response(lambda r: "/divisions/options/" in r.url):
        page.select_option("#id_county", label="永泰县")
    page.wait_for_selector("#id_township option:has-text('嵩口镇')", state="attached")
    with page.expect_response(lambda r: "/divisions/options/" in r.url):
        page.select_option("#id_township", label="嵩口镇")
    page.wait_for_selector("#id_village option:has-text('嵩口居委会')", state="attached")
    page.select_option("#id_exit_year", "2017")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "township=350125101000" in page.url and "exit_year=2017" in page.url
    assert _table_names(page) == {"王建华", "陈秀英"}
    assert "共 2 户" in page.locator("h1").inner_text()
    # The chosen values survive the reload.
    assert page.locator("#id_township").input_value() == "350125101000"
    screenshot(page, "households-filtered-desktop")

    # Search by pinyin initials within the filter.
    page.fill("#id_q", "wjh")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert _table_names(page) == {"王建华"}

    page.click("#household-table >> text=王建华")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/households/{world.songkou.pk}/")
    assert page.locator("h1").inner_text().startswith("王建华")
    assert page.locator("#head-id-number").inner_text() == world.songkou.head_id_number  # city sees it
    assert "林志强" in page.content()
    screenshot(page, "household-detail-desktop")


def test_reviewer_sees_masked_numbers(page, world) -> None:
    household = world.songkou
    login(page, "t-reviewer")
    page.goto(page.base_url + "/households/")
    row = page.locator("#household-table tr", has_text=household.household_no)
    assert mask_id_number(household.head_id_number) in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    masked = page.locator("#head-id-number").inner_text()
    assert masked == household.head_id_number[:6] + "********" + household.head_id_number[-4:]
    body = page.locator("main").inner_text()
    assert mask_phone(household.phone) in body and household.phone not in body
    assert household.head_id_number not in page.content()
    screenshot(page, "household-detail-reviewer-desktop")


def test_household_pages_on_a_phone(page, world) -> None:
    page.set_viewport_size(PHONE)
    login(page, "t-township")
    page.goto(page.base_url + "/households/")
    screenshot(page, "households-phone")
    # No sideways scrolling of the whole page; wide tables scroll inside their own box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    page.click("#household-table >> text=王建华")
    page.wait_for_load_state("networkidle")
    screenshot(page, "household-detail-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    page.goto(page.base_url + "/households/?exit_year=abc")
    assert "筛选条件有误" in page.locator(".alert-danger").inner_text()
    screenshot(page, "households-bad-filter-phone")
