"""The ledger export (common layout, opened by LibreOffice with the Chinese intact and no formula
injection) and the bulk upload (all or nothing, errors naming row and column)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger import imports
from lookback.ledger.exports import columns
from lookback.ledger.models import Problem, State
from tests.ledger.helpers import make_problem

pytestmark = pytest.mark.django_db

HEADERS = [
    "序号",
    "乡镇",
    "村",
    "户编号",
    "户主",
    "维度",
    "问题类别",
    "问题描述",
    "发现层级",
    "发现日期",
    "整改措施",
    "责任单位",
    "责任人",
    "整改时限",
    "整改状态",
    "销号日期",
    "佐证材料",
    "问责情况",
]
INJECTIONS = {
    "description": '=HYPERLINK("http://evil","点我")',
    "category": "@SUM(1+1)",
    "measures": "+1+1",
    "responsible_person": "-2+3",
    "responsible_unit": "=1+1",
}


def _export(client, user, **query) -> bytes:
    client.force_login(user)
    response = client.get(reverse("ledger:export"), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return response.content


def _injected_problem(world) -> Problem:
    township = world.users[Role.TOWNSHIP]
    return make_problem(
        township,
        world.songkou,
        plan=True,
        description=INJECTIONS["description"],
        category=INJECTIONS["category"],
        measures=INJECTIONS["measures"],
        responsible_person=INJECTIONS["responsible_person"],
        responsible_unit=INJECTIONS["responsible_unit"],
    )


def test_export_has_the_common_layout_and_no_formula(client, world):
    _injected_problem(world)
    make_problem(world.users[Role.TOWNSHIP], world.songkou, description="医疗叠加保险未参保（王建华）")
    content = _export(client, world.users[Role.TOWNSHIP])
    assert [h for h, _w in columns()] == HEADERS
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # not one formula cell
    assert "医疗叠加保险未参保（王建华）" in strings and "嵩口镇" in strings
    # Cells that start with = + - @ carry the quote prefix style, so editing them keeps them text.
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert rows[1] == HEADERS
    data = {row[7]: row for row in rows[2:] if len(row) > 7}
    row = data[INJECTIONS["description"]]
    assert row[6] == INJECTIONS["category"] and row[10] == INJECTIONS["measures"]
    assert row[11] == INJECTIONS["responsible_unit"] and row[12] == INJECTIONS["responsible_person"]
    assert row[1] == "嵩口镇" and row[3] == world.songkou.household_no and row[4] == "王建华"


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_export_opens_in_libreoffice_with_chinese_and_no_injection(client, world):
    _injected_problem(world)
    content = _export(client, world.users[Role.TOWNSHIP])
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ledger.xlsx"
        source.write_bytes(content)
        # UTF-8 CSV (filter options: comma, double quote, UTF-8); a private profile so parallel runs don't clash.
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{tmp}/profile",
                "--headless",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76,1",
                "--outdir",
                tmp,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        text = (Path(tmp) / "ledger.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == HEADERS
    row = next(r for r in rows if len(r) > 7 and r[7].startswith("=HYPERLINK"))
    # Had any of these been formulas, LibreOffice would have written their results (2, 1, 点我 …).
    assert row[7] == INJECTIONS["description"]
    assert row[6] == INJECTIONS["category"]
    assert row[10] == INJECTIONS["measures"]
    assert row[11] == INJECTIONS["responsible_unit"]
    assert row[12] == INJECTIONS["responsible_person"]
    assert row[1] == "嵩口镇" and row[2] == "嵩口居委会" and row[5] == "推进度" and row[14] == "整改中"


def test_export_follows_the_filters_and_scope(client, world):
    make_problem(world.users[Role.TOWNSHIP], world.songkou, description="嵩口镇的")
    make_problem(world.users[Role.COUNTY], world.yongtai_other, description="另一个乡镇的")
    content = _export(client, world.users[Role.TOWNSHIP])
    assert "另一个乡镇的".encode() not in content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "嵩口镇的" in strings and "另一个乡镇的" not in strings
    county_content = _export(client, world.users[Role.COUNTY], state=State.CLOSED)
    with zipfile.ZipFile(io.BytesIO(county_content)) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "嵩口镇的" not in strings  # filtered to signed-off problems: none


# --- upload ----------------------------------------------------------------------------------------


def _xlsx(rows: list[list[object]]) -> bytes:
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return output.getvalue()


UPLOAD_HEADERS = ["乡镇", "村", "户编号", "户主", "维度", "问题描述", "整改措施", "责任单位", "责任人", "整改时限"]


def test_upload_creates_every_row(world):
    township = world.users[Role.TOWNSHIP]
    deadline = (timezone.localdate() + timedelta(days=20)).isoformat()
    content = _xlsx(
        [
            UPLOAD_HEADERS,
            ["嵩口镇", "嵩口居委会", None, None, "到位度", "村级工作台账不全", None, None, None, None],
            [None, None, world.songkou.household_no, "王建华", 2, "未参加叠加保险", "补办", "嵩口镇", "陈", deadline],
            ["嵩口镇", None, None, None, "6 效益度", "产业资金滞留", None, None, None, None],
        ]
    )
    result = imports.import_problems(user=township, content=content, file_name="台帐.xlsx")
    assert result.ok, result.errors
    assert result.created == 3
    problems = {p.description: p for p in Problem.objects.all()}
    assert problems["村级工作台账不全"].division_code == "350125101001"
    assert problems["未参加叠加保险"].household == world.songkou
    assert problems["未参加叠加保险"].state == State.IN_PROGRESS
    assert problems["产业资金滞留"].division_code == "350125101000" and problems["产业资金滞留"].dimension == 6
    assert all(p.source == "self_check" for p in problems.values())


def test_upload_is_all_or_nothing_with_row_and_column(world):
    township = world.users[Role.TOWNSHIP]
    content = _xlsx(
        [
            UPLOAD_HEADERS,
            ["嵩口镇", "嵩口居委会", None, None, "到位度", "没问题的一行", None, None, None, None],
            ["嵩口镇", "嵩口居委会", None, None, "9", "维度错了", None, None, None, None],
            [None, None, world.yongtai_other.household_no, None, 1, "别的乡镇的户", None, None, None, None],
            [None, None, world.songkou.household_no, "张三", 1, "户主不符", None, None, None, "明年"],
        ]
    )
    result = imports.import_problems(user=township, content=content, file_name="台帐.xlsx")
    assert not result.ok
    joined = "\n".join(result.errors)
    assert "第 3 行“维度”" in joined
    assert "第 4 行“户编号”" in joined and "不在您的管辖范围内" in joined
    assert "第 5 行“户主”" in joined and "第 5 行“整改时限”" in joined
    assert not Problem.objects.exists()


def test_upload_needs_the_columns(world):
    content = _xlsx([["户编号", "备注"], ["x", "y"]])
    result = imports.import_problems(user=world.users[Role.TOWNSHIP], content=content, file_name="a.xlsx")
    assert not result.ok and "没有找到表头" in result.errors[0]
    content = _xlsx([["村", "问题描述"], ["嵩口居委会", "y"]])
    result = imports.import_problems(user=world.users[Role.TOWNSHIP], content=content, file_name="a.xlsx")
    assert "缺少必填列“维度”" in result.errors[0]


def test_upload_page_reports_errors_with_400(client, world):
    client.force_login(world.users[Role.TOWNSHIP])
    bad = SimpleUploadedFile("台帐.xlsx", _xlsx([UPLOAD_HEADERS, ["嵩口镇", "嵩口居委会", None, None, "x", "", None]]))
    response = client.post(reverse("ledger:upload"), {"file": bad})
    assert response.status_code == 400
    body = response.content.decode()
    assert "第 2 行“维度”" in body and "第 2 行“问题描述”" in body
    broken = SimpleUploadedFile("台帐.xlsx", b"not a workbook")
    response = client.post(reverse("ledger:upload"), {"file": broken})
    assert response.status_code == 400 and "无法读取该文件" in response.content.decode()
    assert not Problem.objects.exists()


def test_the_template_imports_as_is(client, world):
    client.force_login(world.users[Role.TOWNSHIP])
    template = client.get(reverse("ledger:upload_template")).content
    result = imports.import_problems(user=world.users[Role.TOWNSHIP], content=template, file_name="模板.xlsx")
    assert result.ok, result.errors
    assert Problem.objects.get().description == "1名成员未参加医疗叠加保险"
