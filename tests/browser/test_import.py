"""In Chromium: a county officer uploads a file with errors, reads the report on screen and downloads
the marked copy; then uploads a good file, sees the preview, starts the import, watches it finish and
finds the households."""

from __future__ import annotations

import re

import pytest
import python_calamine

from lookback.accounts.roles import Role
from lookback.registry.models import Household, ImportBatch
from tests import factories as f
from tests.browser.conftest import login, screenshot
from tests.registry.test_import_helpers import household_row, member_row, table, write_csv

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _upload(page, *paths) -> None:
    page.goto(page.base_url + "/imports/new/")
    page.set_input_files("#id_files", [str(p) for p in paths])
    assert page.locator("#file-names li").count() == len(paths)
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r"/imports/uploads/\w+/"))


def test_upload_errors_then_a_good_file(page, tmp_path) -> None:
    f.make_user(Role.COUNTY, f.YONGTAI, "b-county")
    login(page, "b-county")
    page.click("text=数据导入")
    page.wait_for_url(re.compile(r"/imports/$"))

    bad = write_csv(
        tmp_path / "有错的户表.csv",
        table([household_row("B1"), household_row("B2", 主要致贫原因="因穷"), household_row("B3", 行政村="不存在村")]),
    )
    _upload(page, bad)
    assert "贫困户信息" in page.inner_text(".sheet-preview")
    page.click("#start-import")
    page.wait_for_selector(".result-rejected")
    page.click("text=查看错误")
    page.wait_for_selector("#error-table")
    errors = page.inner_text("#error-table")
    assert "因穷" in errors and "不存在村" in errors
    screenshot(page, "import-errors")
    with page.expect_download() as download_info:
        page.click("#download-report")
    report = tmp_path / "report.xlsx"
    download_info.value.save_as(report)
    copy = python_calamine.CalamineWorkbook.from_path(str(report)).get_sheet_by_name("有错的户表").to_python()
    assert copy[0][-1] == "错误原因" and "主要致贫原因" in copy[2][-1] and "行政村" in copy[3][-1]
    assert not Household.objects.exists()

    households = write_csv(tmp_path / "户表.csv", table([household_row("G1"), household_row("G2", 行政村="月阙")]))
    members = write_csv(tmp_path / "成员表.csv", table([member_row("G1", "M1"), member_row("G2", "M2")]))
    _upload(page, members, households)
    assert page.locator(".sheet-preview").count() == 2
    assert "户编号" in page.inner_text(".column-mapping >> nth=0")
    screenshot(page, "import-preview")
    page.click("#start-import")
    page.wait_for_selector(".batch-card >> nth=1 >> .result-stored")
    assert page.locator(".result-stored").count() == 2
    assert page.locator(".import-progress[data-status='stored'] .progress-bar").first.inner_text() == "100%"
    screenshot(page, "import-done")
    page.reload()  # the result survives a reload: it lives in the database
    assert page.locator(".result-stored").count() == 2
    page.click("text=查看脱贫户 >> nth=0")
    page.wait_for_url(re.compile(r"/households/"))
    content = page.content()
    assert "G1" in content and "G2" in content
    assert ImportBatch.objects.filter(status="stored").count() == 2
