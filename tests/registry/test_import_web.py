"""Import pages: upload, preview, background import, progress, errors and report, history, templates,
snapshot comparison; permissions and scopes."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import python_calamine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from lookback.accounts.roles import Role
from lookback.registry.importers.base import Options
from lookback.registry.importers.blank import template_kinds
from lookback.registry.importers.engine import preview
from lookback.registry.models import Household, ImportBatch
from tests import factories as f
from tests.registry.test_import_helpers import household_row, run, table, write_csv, write_xlsx

pytestmark = pytest.mark.django_db


def csv_upload(name: str, rows: list[list[str]]) -> SimpleUploadedFile:
    text = "\n".join(",".join(str(c) for c in row) for row in rows)
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def county(client):
    user = f.make_user(Role.COUNTY, f.YONGTAI)
    client.force_login(user)
    return user


def upload(client, *files, **data):
    return client.post(reverse("imports:upload"), {"files": list(files), **data})


def test_nav_link_and_pages_only_for_importers(client):
    county = f.make_user(Role.COUNTY, f.YONGTAI)
    village = f.make_user(Role.VILLAGE, f.SONGKOU_VILLAGE)
    client.force_login(county)
    assert "数据导入" in client.get(reverse("home")).content.decode()
    assert client.get(reverse("imports:upload")).status_code == 200
    client.force_login(village)
    assert "数据导入" not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("imports:upload")).status_code == 403
    assert upload(client, csv_upload("h.csv", table([household_row("H1")]))).status_code == 403
    assert not ImportBatch.objects.exists()


def test_upload_preview_start_progress_and_result(client, county):
    response = upload(client, csv_upload("户.csv", [["福州市永泰县贫困户"], *table([household_row("H1")])]))
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "贫困户信息" in html and "表头在第 2 行" in html
    assert "户主证件号码" in html and "开始导入" in html
    assert not Household.objects.exists()  # nothing before the user confirms
    batch = ImportBatch.objects.get()
    assert batch.status == "pending" and batch.created_by == county

    start = client.post(reverse("imports:upload_start", args=[batch.details["upload"]]))
    assert start.status_code == 302
    assert Household.objects.get().household_no == "H1"  # the task ran (immediate backend in tests)
    batch.refresh_from_db()
    assert batch.status == "stored" and batch.rows_new == 1
    fragment = client.get(reverse("imports:progress", args=[batch.pk])).content.decode()
    assert "已导入" in fragment and "新增 1" in fragment and "hx-get" not in fragment
    # the heading's status badge is swapped too, out of band: it said 排队中 when the page was drawn
    assert f'<span id="status-{batch.pk}" hx-swap-oob="true"><span class="badge text-bg-success">' in fragment
    after = client.get(start["Location"]).content.decode()
    assert "已导入" in after
    history = client.get(reverse("imports:list")).content.decode()
    assert "户.csv" in history


def test_running_batch_polls_its_progress(client, county):
    from lookback.registry.services_import import progress_path

    batch = ImportBatch.objects.create(
        created_by=county, file_name="大文件.xlsx", sha256="0" * 64, division_code=f.YONGTAI, status="running"
    )
    progress_path(batch.pk).parent.mkdir(parents=True, exist_ok=True)
    progress_path(batch.pk).write_text("42")
    fragment = client.get(reverse("imports:progress", args=[batch.pk])).content.decode()
    assert "42%" in fragment and "hx-get" in fragment
    assert f'<span id="status-{batch.pk}" hx-swap-oob="true"><span class="badge text-bg-primary">' in fragment
    assert "正在导入" in fragment
    # before the first rows (a large workbook's first sheet is still being read) and after the last
    # (indexes and commit): the bar alone would sit at 0 % or 99 % for many seconds
    progress_path(batch.pk).write_text("0")
    assert "正在读取文件" in client.get(reverse("imports:progress", args=[batch.pk])).content.decode()
    progress_path(batch.pk).write_text("99")
    assert "正在保存到数据库" in client.get(reverse("imports:progress", args=[batch.pk])).content.decode()
    progress_path(batch.pk).unlink()


def test_counts_of_a_large_import_are_grouped_by_thousands_in_chinese_and_english(client, county):
    batch = ImportBatch.objects.create(
        created_by=county,
        file_name="全市.xlsx",
        sha256="0" * 64,
        division_code=f.YONGTAI,
        status="stored",
        rows_new=1185077,
        rows_unchanged=131975,
    )
    fragment = client.get(reverse("imports:progress", args=[batch.pk])).content.decode()
    assert "新增 1,185,077，更新 0，未变 131,975" in fragment  # Django's zh_Hans formats group nothing
    detail = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "1,185,077 / 0 / 131,975" in detail
    county.language = "en"
    county.save(update_fields=["language"])
    english = client.get(reverse("imports:progress", args=[batch.pk])).content.decode()
    assert "1,185,077" in english and "131,975" in english
    translation.activate(settings.LANGUAGE_CODE)  # the middleware left English active in this thread


def test_file_with_errors_shows_them_and_offers_the_marked_copy(client, county):
    rows = table([household_row("H1"), household_row("H2", 主要致贫原因="因穷"), household_row("H3", 家庭人口数="三")])
    response = upload(client, csv_upload("错.csv", rows))
    batch = ImportBatch.objects.get()
    client.post(reverse("imports:upload_start", args=[batch.details["upload"]]))
    batch.refresh_from_db()
    assert batch.status == "rejected" and not Household.objects.exists()
    detail = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "因穷" in detail and "主要致贫原因" in detail and "家庭人口数" in detail
    assert "下载错误报告" in detail
    report = client.get(reverse("imports:report", args=[batch.pk]))
    assert report.status_code == 200
    content = b"".join(report.streaming_content)
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    copy = workbook.get_sheet_by_name("错").to_python()
    assert copy[0][-1] == "错误原因"
    assert "主要致贫原因" in copy[2][-1] and "家庭人口数" in copy[3][-1]
    # the bad cells are filled: the styles hold the highlight colour and the sheet refers to it
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "FFC7CE" in archive.read("xl/styles.xml").decode()
    assert response.status_code == 302


def test_bad_uploads_get_a_message_not_a_500(client, county):
    response = upload(client)
    assert response.status_code == 400 and "请选择要导入的文件" in response.content.decode()
    response = upload(client, SimpleUploadedFile("a.pdf", b"%PDF-1.4"))
    assert response.status_code == 400 and "不是可导入的文件" in response.content.decode()
    response = upload(client, csv_upload("a.csv", [["x"]]), kind="nonsense")
    assert response.status_code == 400
    # a damaged workbook is previewed as unreadable and cannot be started
    response = upload(client, SimpleUploadedFile("bad.xlsx", b"PK\x03\x04garbage"))
    page = client.get(response["Location"]).content.decode()
    assert "无法读取" in page and "disabled" in page


def test_batches_and_uploads_are_scoped(client, county, tmp_path):
    batch = run(write_csv(tmp_path / "h.csv", table([household_row("H1", 主要致贫原因="因穷")])), user=county)
    minqing = f.make_user(Role.COUNTY, f.MINQING)
    client.force_login(minqing)
    for name in ("imports:detail", "imports:progress", "imports:report"):
        assert client.get(reverse(name, args=[batch.pk])).status_code == 404
    assert "h.csv" not in client.get(reverse("imports:list")).content.decode()
    client.force_login(f.make_user(Role.CITY, f.CITY))
    assert client.get(reverse("imports:detail", args=[batch.pk])).status_code == 200


def test_another_users_upload_is_not_theirs_to_start(client, county):
    upload(client, csv_upload("h.csv", table([household_row("H1")])))
    token = ImportBatch.objects.get().details["upload"]
    client.force_login(f.make_user(Role.COUNTY, f.YONGTAI))
    assert client.get(reverse("imports:upload_detail", args=[token])).status_code == 404
    assert client.post(reverse("imports:upload_start", args=[token])).status_code == 404
    assert ImportBatch.objects.get().status == "pending"


def test_discarding_an_upload(client, county):
    upload(client, csv_upload("h.csv", table([household_row("H1")])))
    token = ImportBatch.objects.get().details["upload"]
    assert client.post(reverse("imports:upload_discard", args=[token])).status_code == 302
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(("code", "label"), template_kinds())
def test_every_template_downloads_and_is_recognised_as_its_kind(client, county, tmp_path, code, label):
    response = client.get(reverse("imports:template", args=[code]))
    assert response.status_code == 200
    path = tmp_path / "t.xlsx"
    path.write_bytes(response.content)
    sheets = [s for s in preview(path, Options(kind=code if code in dict(template_kinds()) else "")) if s.plan.kind]
    assert sheets and sheets[0].plan.header_row == 2 and not sheets[0].plan.missing
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    if code in ("households", "members", "measures", "visits", "loans", "housing"):
        assert "dataValidation" in sheet_xml and "代码表" in sheet_xml


def test_filled_template_imports(client, county, tmp_path):
    # A template filled in (here by writing under its header) imports as it is.
    response = client.get(reverse("imports:template", args=["households"]))
    path = tmp_path / "t.xlsx"
    path.write_bytes(response.content)
    header = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[1]
    row = household_row("T1")
    filled = write_xlsx(tmp_path / "filled.xlsx", {"户": [["标题"], header, [row.get(h, "") for h in header]]})
    assert run(filled, user=county).status == "stored"


def test_snapshot_pages_compare_export_and_mask(client, county, tmp_path):
    f.make_household("350125101201", household_no="H1", head_name="王建华")
    run(
        write_xlsx(tmp_path / "n.xlsx", {"户": table([household_row("H2")])}),
        user=county,
        as_national_snapshot=True,
        snapshot_date=dt.date(2018, 11, 30),
    )
    snapshot_id = ImportBatch.objects.get().details["snapshot_id"]
    listing = client.get(reverse("imports:snapshots")).content.decode()
    assert "2018-11-30" in listing
    page = client.get(reverse("imports:snapshot", args=[snapshot_id])).content.decode()
    assert "国扶系统有、台账没有的户" in page and "H2" in page and "H1" in page
    export = client.get(reverse("imports:snapshot_export", args=[snapshot_id]))
    assert export.status_code == 200
    rows = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(b"".join(export.streaming_content)))
    assert len(rows.get_sheet_by_index(0).to_python()) == 4  # title, header, two households
    client.force_login(f.make_user(Role.COUNTY, f.MINQING))
    assert client.get(reverse("imports:snapshot", args=[snapshot_id])).status_code == 404


def test_a_queued_import_waits_for_the_worker_and_polls(client, county, monkeypatch):
    from types import SimpleNamespace

    from lookback.registry import tasks

    queued = []
    worker_task = tasks.import_batches
    monkeypatch.setattr(tasks, "import_batches", SimpleNamespace(enqueue=lambda **kwargs: queued.append(kwargs)))
    upload(client, csv_upload("h.csv", table([household_row("H1")])))
    batch = ImportBatch.objects.get()
    token = batch.details["upload"]
    client.post(reverse("imports:upload_start", args=[token]))
    assert queued == [{"batch_ids": [batch.pk]}]
    page = client.get(reverse("imports:upload_detail", args=[token])).content.decode()
    assert "排队等待导入" in page and "hx-get" in page and "开始导入" not in page
    client.post(reverse("imports:upload_start", args=[token]))  # a second click queues nothing
    assert len(queued) == 1
    worker_task.call(batch_ids=[batch.pk])  # the worker picks it up
    assert Household.objects.filter(household_no="H1").exists()
