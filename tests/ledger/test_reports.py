"""Township reports (draft → submitted, frozen with a hash → accepted or returned; late against the
campaign's deadline), unit self-check items, accountability records and their suggestions."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import docx
import pytest
from django.urls import reverse
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger import services
from lookback.ledger.models import (
    Dimension,
    Problem,
    ReportState,
    SelfCheckAnswer,
    SelfCheckItem,
    Source,
)
from lookback.ledger.services import LedgerError, NotAllowed
from tests import factories as f
from tests.ledger.helpers import campaign, make_problem, rectified

pytestmark = pytest.mark.django_db


def _docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _ledger(world) -> None:
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    make_problem(township, world.songkou, dimension=2)
    make_problem(township, world.songkou, dimension=2)
    closed = rectified(township, world.songkou, dimension=3)
    services.sign_off(user=county, problem=closed, version=closed.version)
    make_problem(county, world.yongtai_other, dimension=2)  # another township: not in this report


def test_report_generation_submission_and_freeze(world):
    township = world.users[Role.TOWNSHIP]
    _ledger(world)
    report = services.start_report(user=township, campaign=campaign())
    assert report.state == ReportState.DRAFT and "嵩口镇" in report.basic_situation
    report = services.update_report_text(
        user=township,
        report=report,
        version=report.version,
        basic_situation="嵩口镇组织开展了自查。",
        rectification_summary="逐户整改。",
        next_steps="持续跟踪。",
    )
    report = services.submit_report(user=township, report=report, version=report.version)
    assert report.state == ReportState.SUBMITTED and report.submitted_by == township
    # 2019-01-10 has long passed: the submission is late.
    assert report.is_late
    with report.docx_file.open("rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == report.docx_sha256
    text = _docx_text(content)
    assert "嵩口镇稳定脱贫“回头看”自查报告" in text
    assert "共发现问题3个" in text
    assert "推进度 | 2 | 0 | 2" in text and "准确度 | 1 | 1 | 0" in text and "合计 | 3 | 1 | 2" in text
    assert "嵩口镇组织开展了自查。" in text and "持续跟踪。" in text
    assert report.snapshot["total"] == 3
    # Frozen: no more edits, no second submission.
    with pytest.raises(LedgerError, match="已报送"):
        services.update_report_text(
            user=township,
            report=report,
            version=report.version,
            basic_situation="x",
            rectification_summary="",
            next_steps="",
        )
    with pytest.raises(LedgerError):
        services.submit_report(user=township, report=report, version=report.version)


def test_on_time_submission_is_not_late(world):
    c = campaign()
    c.report_deadline = timezone.localdate() + timedelta(days=1)
    c.save()
    report = services.start_report(user=world.users[Role.TOWNSHIP], campaign=c)
    report = services.submit_report(user=world.users[Role.TOWNSHIP], report=report, version=report.version)
    assert not report.is_late


def test_county_accepts_or_returns_and_resubmission_keeps_first_lateness(world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    report = services.start_report(user=township, campaign=campaign())
    report = services.submit_report(user=township, report=report, version=report.version)
    with pytest.raises(NotAllowed):
        services.accept_report(user=township, report=report, version=report.version)
    with pytest.raises(LedgerError, match="退回原因"):
        services.return_report(user=county, report=report, version=report.version, reason="")
    report = services.return_report(user=county, report=report, version=report.version, reason="缺少整改情况")
    assert report.state == ReportState.RETURNED
    assert township.ledger_notifications.filter(kind="report_returned").exists()
    first = report.first_submitted_at
    report = services.update_report_text(
        user=township,
        report=report,
        version=report.version,
        basic_situation="补充",
        rectification_summary="补充整改情况",
        next_steps="",
    )
    report = services.submit_report(user=township, report=report, version=report.version)
    assert report.first_submitted_at == first and report.is_late
    report = services.accept_report(user=county, report=report, version=report.version)
    assert report.state == ReportState.ACCEPTED and report.reviewed_by == county


def test_only_the_township_officer_writes_their_own_report(world):
    with pytest.raises(NotAllowed):
        services.start_report(user=world.users[Role.COUNTY], campaign=campaign())
    other = f.make_user(Role.TOWNSHIP, world.yongtai_other.village.parent.code)
    with pytest.raises(LedgerError):
        services.start_report(user=other, campaign=campaign(), township=world.songkou.village.parent)


def test_report_pages_and_county_overview(client, world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    _ledger(world)
    report = services.start_report(user=township, campaign=campaign())
    client.force_login(township)
    response = client.get(reverse("ledger:report_file", args=[report.pk, "docx"]))
    assert response.status_code == 200 and "共发现问题3个" in _docx_text(response.content)
    response = client.post(
        reverse("ledger:report_action", args=[report.pk, "submit"]),
        {"version": report.version, "basic_situation": "基本情况", "rectification_summary": "", "next_steps": ""},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED and report.is_late
    # The frozen file is served after submission, byte for byte.
    response = client.get(reverse("ledger:report_file", args=[report.pk, "docx"]))
    assert hashlib.sha256(response.content).hexdigest() == report.docx_sha256
    client.force_login(county)
    body = client.get(reverse("ledger:report_list")).content.decode()
    assert "嵩口镇" in body and "逾期" in body and "已报送" in body
    assert "未报送（已过期限）" in body  # the county's other townships
    # Another township's officer cannot open it.
    other = f.make_user(Role.TOWNSHIP, world.yongtai_other.village.parent.code)
    client.force_login(other)
    assert client.get(reverse("ledger:report_detail", args=[report.pk])).status_code == 404
    assert client.get(reverse("ledger:report_file", args=[report.pk, "docx"])).status_code == 404


# --- self-check items --------------------------------------------------------------------------------


def test_default_items_exist_for_township_and_county():
    c = campaign()
    assert SelfCheckItem.objects.filter(campaign=c, unit_level="township").count() >= 6
    assert SelfCheckItem.objects.filter(campaign=c, unit_level="county").count() >= 6
    assert c.parameter("accountability_overdue_days") == 15


def test_each_no_becomes_a_problem_once(world):
    township = world.users[Role.TOWNSHIP]
    items = list(SelfCheckItem.objects.filter(campaign=campaign(), unit_level="township"))
    answers = {items[0].pk: (True, ""), items[1].pk: (False, "书记未参加部署会"), items[2].pk: (False, "")}
    opened = services.answer_self_check(user=township, campaign=campaign(), answers=answers)
    assert len(opened) == 2
    for problem in opened:
        assert problem.source == Source.SELF_CHECK and problem.dimension == Dimension.RESPONSIBILITY
        assert problem.division_code == "350125101000"
    assert "书记未参加部署会" in opened[0].description
    again = services.answer_self_check(user=township, campaign=campaign(), answers=answers)
    assert again == [] and Problem.objects.count() == 2
    assert SelfCheckAnswer.objects.filter(unit=township.scope).count() == 3


def test_county_answers_county_items_only(world):
    county = world.users[Role.COUNTY]
    township_item = SelfCheckItem.objects.filter(campaign=campaign(), unit_level="township").first()
    with pytest.raises(LedgerError):
        services.answer_self_check(user=county, campaign=campaign(), answers={township_item.pk: (False, "")})
    with pytest.raises(NotAllowed):
        services.answer_self_check(user=world.users[Role.VILLAGE], campaign=campaign(), answers={})


def test_self_check_page(client, world):
    client.force_login(world.users[Role.TOWNSHIP])
    items = list(SelfCheckItem.objects.filter(campaign=campaign(), unit_level="township"))
    response = client.get(reverse("ledger:self_check"))
    assert response.status_code == 200 and items[0].text in response.content.decode()
    response = client.post(reverse("ledger:self_check"), {f"item_{items[0].pk}": "no", f"note_{items[0].pk}": "未发文"})
    assert response.status_code == 302
    assert Problem.objects.get().description.endswith("（未发文）")
    client.force_login(world.users[Role.VILLAGE])
    assert client.get(reverse("ledger:self_check")).status_code == 403


# --- accountability ----------------------------------------------------------------------------------


def test_accountability_is_for_the_city_and_supervisors(client, world):
    city = world.users[Role.CITY]
    problem = make_problem(world.users[Role.TOWNSHIP], world.songkou)
    record = services.record_accountability(
        user=city,
        campaign=campaign(),
        kind="interview",
        person_name="陈晓东",
        unit="嵩口镇人民政府",
        division=f.division(f.SONGKOU),
        reason="问题整改超期",
        decided_by="福州市扶贫开发领导小组办公室",
        decided_on=timezone.localdate(),
        problems=[problem],
    )
    assert list(record.problems.all()) == [problem]
    with pytest.raises(NotAllowed):
        services.record_accountability(
            user=world.users[Role.COUNTY],
            campaign=campaign(),
            kind="interview",
            person_name="x",
            unit="x",
            division=f.division(f.SONGKOU),
            reason="x",
            decided_by="x",
            decided_on=timezone.localdate(),
        )
    for role, status in ((Role.CITY, 200), (Role.SUPERVISOR, 200), (Role.COUNTY, 403), (Role.TOWNSHIP, 403)):
        client.force_login(world.users[role])
        response = client.get(reverse("ledger:accountability_list"))
        assert response.status_code == status, role
        if status == 200:
            assert "陈晓东" in response.content.decode()
        detail = client.get(reverse("ledger:accountability_detail", args=[record.pk]))
        assert detail.status_code == (200 if status == 200 else 404)
    # The problem's export row names it.
    client.force_login(world.users[Role.TOWNSHIP])
    assert "约谈（陈晓东".encode() in _shared_strings(client.get(reverse("ledger:export")).content)


def _shared_strings(content: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("xl/sharedStrings.xml")


def test_accountability_form(client, world):
    client.force_login(world.users[Role.CITY])
    problem = make_problem(world.users[Role.TOWNSHIP], world.songkou)
    data = {
        "kind": "notice",
        "person_name": "林",
        "unit": "嵩口镇",
        "county": f.YONGTAI,
        "township": f.SONGKOU,
        "reason": "整改不力",
        "problem_ids": f"{problem.pk}, 999999",
        "decided_by": "市扶贫办",
        "decided_on": timezone.localdate().isoformat(),
    }
    response = client.post(reverse("ledger:accountability_create"), data)
    assert response.status_code == 400 and "#999999" in response.content.decode()
    data["problem_ids"] = str(problem.pk)
    response = client.post(reverse("ledger:accountability_create"), data)
    assert response.status_code == 302
