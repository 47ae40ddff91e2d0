"""In Chromium, the whole ledger path: a township officer fills a plan, attaches a photo and marks the
problem rectified; the county returns it; the officer fixes it; the county signs it off. Then the
township report is generated, downloaded (python-docx opens it and it holds the problem counts) and
submitted after 2019-01-10, so marked late, and the county sees it late. Screenshots at desktop and
phone width (390×844)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger.models import Problem, ReportState, State, TownshipReport
from tests.browser.conftest import login, screenshot
from tests.ledger.helpers import make_problem, png_bytes

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}


def _logout(page) -> None:
    page.context.clear_cookies()


def _photo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(png_bytes(40, 30))
    return path


def _state(page) -> str:
    return page.locator("#problem-state").inner_text().strip()


def test_rectify_return_fix_sign_off_and_late_report(page, world, tmp_path) -> None:
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    problem = make_problem(county, world.songkou, description="王建华家1名成员未参加医疗叠加保险", dimension=2)
    make_problem(township, world.village_other, description="陈秀英家扶贫手册收入栏未填写", dimension=3)
    detail = f"{page.base_url}/ledger/{problem.pk}/"

    # The township officer: the ledger list shows the problem with its band; fill the plan.
    login(page, "t-township")
    page.click("nav >> text=问题台帐")
    page.wait_for_load_state("networkidle")
    assert "王建华家1名成员未参加医疗叠加保险" in page.locator("#problem-table").inner_text()
    assert "未定时限" in page.locator("#problem-table").inner_text()
    screenshot(page, "ledger-list-desktop")
    page.goto(detail)
    assert _state(page) == "待整改"
    page.fill("#id_measures", "协助到镇医保站补办医疗叠加保险参保手续")
    page.fill("#id_responsible_unit", "嵩口镇人民政府")
    page.fill("#id_responsible_person", "陈晓东")
    page.fill("#id_deadline", (timezone.localdate() + timedelta(days=8)).isoformat())
    page.click("#save-plan")
    page.wait_for_load_state("networkidle")
    assert _state(page) == "整改中"
    assert "≤10 天" in page.content()

    # Attach a photo and mark it rectified.
    page.set_input_files("#evidence-form input[type=file]", str(_photo(tmp_path, "参保凭证.png")))
    page.click("#upload-evidence")
    page.wait_for_load_state("networkidle")
    assert "参保凭证.png" in page.locator("#evidence-list").inner_text()
    # The thumbnail is served through the scoped view and really is an image.
    assert page.locator("#evidence-list img").evaluate("img => img.naturalWidth") == 40
    page.click("#mark-rectified")
    page.wait_for_load_state("networkidle")
    assert _state(page) == "待核验"
    assert "同一人不能既整改又核验" in page.locator("#verify-blocked").inner_text()
    screenshot(page, "ledger-detail-awaiting-desktop")

    # The county returns it, with a reason.
    _logout(page)
    login(page, "t-county")
    page.goto(detail)
    page.click("#return-problem")  # no reason: the browser's required check stops it
    assert _state(page) == "待核验"
    page.fill("#id_reason", "照片看不清参保凭证上的姓名，请补充医保站出具的参保证明")
    page.click("#return-problem")
    page.wait_for_load_state("networkidle")
    assert _state(page) == "整改中"

    # The officer sees why, adds the certificate and marks it rectified again.
    _logout(page)
    login(page, "t-township")
    page.goto(f"{page.base_url}/ledger/digest/")
    assert "王建华家1名成员未参加医疗叠加保险" in page.locator("#digest-returned").inner_text()
    assert "被退回" in page.locator("#notifications").inner_text()
    page.goto(detail)
    assert "请补充医保站出具的参保证明" in page.locator("#return-reason").inner_text()
    page.set_viewport_size(PHONE)
    screenshot(page, "ledger-detail-returned-phone")
    page.set_input_files("#evidence-form input[type=file]", str(_photo(tmp_path, "参保证明.png")))
    page.fill("#evidence-form #id_note", "医保站证明")
    page.click("#upload-evidence")
    page.wait_for_load_state("networkidle")
    page.click("#mark-rectified")
    page.wait_for_load_state("networkidle")
    assert _state(page) == "待核验"
    page.set_viewport_size({"width": 1280, "height": 900})

    # The county signs it off.
    _logout(page)
    login(page, "t-county")
    page.goto(detail)
    page.fill("#signoff-form textarea", "已核实参保证明")
    page.click("#sign-off")
    page.wait_for_load_state("networkidle")
    assert _state(page) == "已销号"
    actions = page.locator("#timeline > li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert actions == ["create", "plan", "evidence", "rectify", "return", "evidence", "rectify", "sign_off"]
    screenshot(page, "ledger-detail-closed-desktop")
    page.goto(f"{page.base_url}/ledger/")
    assert "嵩口镇" in page.locator("#by-division").inner_text()
    screenshot(page, "ledger-list-county-desktop")
    assert Problem.objects.get(pk=problem.pk).state == State.CLOSED

    # The township report: generate, edit, download, submit (late: the deadline was 2019-01-10).
    _logout(page)
    login(page, "t-township")
    page.goto(f"{page.base_url}/ledger/reports/")
    page.click("#start-report")
    page.wait_for_load_state("networkidle")
    assert "报送期限 2019-01-10 已过" in page.content()
    page.fill("#id_next_steps", "一月底前完成全部问题整改销号。")
    page.click("#save-report")
    page.wait_for_load_state("networkidle")
    with page.expect_download() as download_info:
        page.click("#download-docx")
    content = Path(download_info.value.path()).read_bytes()
    text = _docx_text(content)
    assert "嵩口镇稳定脱贫“回头看”自查报告" in text
    assert "共发现问题2个" in text
    assert "推进度 | 1 | 1 | 0" in text and "准确度 | 1 | 0 | 1" in text and "合计 | 2 | 1 | 1" in text
    assert "一月底前完成全部问题整改销号。" in text
    screenshot(page, "ledger-report-draft-desktop")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#submit-report")
    page.wait_for_load_state("networkidle")
    assert page.locator("#report-state").inner_text().strip() == "已报送"
    assert page.locator("#late-badge").inner_text().strip() == "逾期报送"
    report = TownshipReport.objects.get()
    assert report.state == ReportState.SUBMITTED and report.is_late and len(report.docx_sha256) == 64
    page.set_viewport_size(PHONE)
    screenshot(page, "ledger-report-submitted-phone")

    # The county sees who submitted, and that this one was late.
    _logout(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, "t-county")
    page.goto(f"{page.base_url}/ledger/reports/")
    row = page.locator("#report-table tr", has_text="嵩口镇")
    assert "已报送" in row.inner_text() and "逾期" in row.inner_text()
    screenshot(page, "ledger-reports-county-desktop")


def test_enter_a_problem_on_a_phone(page, world) -> None:
    page.set_viewport_size(PHONE)
    login(page, "t-village")
    page.goto(f"{page.base_url}/ledger/new/")
    page.fill("#id_household_no", world.songkou.household_no)
    page.wait_for_selector("#household-lookup:has-text('王建华')")
    page.select_option("#id_source", "visit")
    page.select_option("#id_dimension", "5")
    page.fill("#id_description", "户主不清楚帮扶责任人姓名和联系方式")
    screenshot(page, "ledger-new-phone")
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("#save-problem")
    page.wait_for_load_state("networkidle")
    problem = Problem.objects.get()
    assert page.url.endswith(f"/ledger/{problem.pk}/")
    assert problem.household == world.songkou and problem.dimension == 5 and problem.source == "visit"
    page.goto(f"{page.base_url}/ledger/")
    screenshot(page, "ledger-list-phone")
    # Printed: the table alone, every column, no navigation, filters or buttons.
    page.set_viewport_size({"width": 1123, "height": 794})
    page.emulate_media(media="print")
    assert page.locator("#problem-table").is_visible()
    assert page.locator("#problem-table th", has_text="乡镇").is_visible()
    assert not page.locator("#filters").is_visible() and not page.locator("nav.navbar").is_visible()
    screenshot(page, "ledger-list-print")


def _docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)
