"""In Chromium: a township officer downloads the 一户一档核查表 from the household list, fills it in,
uploads a file with an error (the list names row and column, nothing stored), then the corrected file
(counts shown, checks recorded). Screenshots at desktop and phone width."""

from __future__ import annotations

from datetime import date

import pytest

from lookback.registry.models import ARCHIVE_ITEMS_DEFAULT, ArchiveCheck
from tests.browser.conftest import login, screenshot
from tests.registry.test_archive_sheets import DATE_COL, _fill, _row_of, _rows, _xlsx

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ITEMS = list(ARCHIVE_ITEMS_DEFAULT)
PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def _upload(page, path) -> None:
    page.set_input_files("#id_file", str(path))
    page.click("#sheet-submit")
    page.wait_for_load_state("networkidle")


def test_download_fill_upload_with_an_error_then_corrected(page, world, tmp_path) -> None:
    login(page, "t-township")
    page.goto(page.base_url + "/households/")
    assert page.locator("#archive-sheet-actions").is_visible()
    screenshot(page, "archive-sheet-households-desktop")

    with page.expect_download() as download_info:
        page.click("#archive-sheet-download")
    downloaded = tmp_path / "sheet.xlsx"
    download_info.value.save_as(downloaded)
    assert download_info.value.suggested_filename.endswith(".xlsx")
    rows = _rows(downloaded.read_bytes())
    assert len(rows) == 3  # the header and 嵩口镇's two households

    _fill(_row_of(rows, world.songkou), date(2018, 12, 5), ITEMS[:8], checker="林小红")
    _fill(_row_of(rows, world.village_other), "2018-13-01", ITEMS)
    bad = tmp_path / "有错的核查表.xlsx"
    bad.write_bytes(_xlsx(rows))

    page.click("#archive-sheet-upload")
    page.wait_for_selector("#sheet-form")
    _upload(page, bad)
    issues = page.inner_text("#sheet-issues")
    number = rows.index(_row_of(rows, world.village_other)) + 1
    assert f"第 {number} 行" in issues and "核查日期" in issues and "2018-13-01" in issues
    assert "整个文件都没有保存" in page.inner_text("#sheet-errors")
    assert not ArchiveCheck.objects.exists()
    screenshot(page, "archive-sheet-errors-desktop")
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    screenshot(page, "archive-sheet-errors-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    _row_of(rows, world.village_other)[DATE_COL] = date(2018, 12, 6)
    good = tmp_path / "核查表.xlsx"
    good.write_bytes(_xlsx(rows))
    _upload(page, good)
    outcome = page.inner_text("#sheet-outcome")
    assert "新登记核查 2 户" in outcome and "未重复登记 0 户" in outcome
    assert ArchiveCheck.objects.count() == 2
    screenshot(page, "archive-sheet-done-desktop")

    # The same file again: nothing new.
    _upload(page, good)
    assert "新登记核查 0 户" in page.inner_text("#sheet-outcome")
    assert ArchiveCheck.objects.count() == 2
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    screenshot(page, "archive-sheet-done-phone")
    page.goto(page.base_url + "/households/")
    _no_sideways_scroll(page)
    screenshot(page, "archive-sheet-households-phone")
