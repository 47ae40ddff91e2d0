"""一户一档核查表: download (scope, filters, drop-downs, pre-filled), upload (round trip, nothing twice,
every rejection names row and column and stores nothing), roles and scope, csv in GB18030, bad files."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
import python_calamine
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.registry.models import ARCHIVE_ITEMS_DEFAULT, ArchiveCheck
from lookback.registry.services import record_archive_check
from tests import factories as f

ITEMS = list(ARCHIVE_ITEMS_DEFAULT)
DOWNLOAD = "/households/archive-sheet/"
UPLOAD = "/households/archive-sheet/upload/"
EDITORS = (Role.CITY, Role.COUNTY, Role.TOWNSHIP, Role.VILLAGE, Role.ADMIN)
READERS = (Role.HELPER, Role.REVIEWER, Role.SUPERVISOR)
HEADERS = ["县", "乡镇", "行政村", "户编号", "户主姓名", "核查日期", *ITEMS, "核查人", "备注"]
DATE_COL, FIRST_ITEM = 5, 6


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _download(client, user, query: dict | None = None) -> bytes:
    client.force_login(user)
    response = client.get(DOWNLOAD, query or {})
    assert response.status_code == 200, _text(response)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return response.content


def _rows(content: bytes, sheet: int = 0) -> list[list[Any]]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    return book.get_sheet_by_index(sheet).to_python()


def _xlsx(rows: list[list[Any]]) -> bytes:
    """A workbook as someone filling in the sheet saves it (dates as dates, the rest as typed)."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    sheet = book.add_worksheet("一户一档核查表")
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, timezone.datetime(value.year, value.month, value.day), dates)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    book.close()
    return output.getvalue()


def _upload(client, user, content: bytes, name: str = "核查表.xlsx"):
    client.force_login(user)
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, content)})


def _row_of(rows: list[list[Any]], household) -> list[Any]:
    [row] = [r for r in rows if r[3] == household.household_no]
    return row


def _fill(row: list[Any], checked_on: Any, present: list[str], checker: str = "", note: str = "") -> None:
    row[DATE_COL] = checked_on
    for offset, item in enumerate(ITEMS):
        row[FIRST_ITEM + offset] = "是" if item in present else "否"
    row[-2], row[-1] = checker, note


# --- download ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_download_holds_the_scope_households_with_drop_downs_and_grey_place_columns(client, world):
    content = _download(client, world.users[Role.TOWNSHIP])
    rows = _rows(content)
    assert rows[0] == HEADERS
    assert {r[3] for r in rows[1:]} == {world.songkou.household_no, world.village_other.household_no}
    songkou = _row_of(rows, world.songkou)
    assert songkou[:5] == ["永泰县", "嵩口镇", world.songkou.village.name, world.songkou.household_no, "王建华"]
    assert songkou[5:] == [""] * (len(HEADERS) - 5)  # never checked: nothing pre-filled
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    # The 是/否 drop-down over every item column, and a date range on 核查日期.
    assert re.search(r'<dataValidation type="list"[^>]*sqref="G2:P\d+"', xml)
    assert '<formula1>"是,否"</formula1>' in xml
    assert re.search(r'<dataValidation type="date"[^>]*sqref="F2:F\d+"', xml)
    assert "填表说明" in _rows(content, 1)[0][0]


@pytest.mark.django_db
def test_download_follows_the_list_filters(client, world):
    rows = _rows(_download(client, world.users[Role.CITY], {"county": f.YONGTAI, "township": f.SONGKOU}))
    assert {r[3] for r in rows[1:]} == {world.songkou.household_no, world.village_other.household_no}
    rows = _rows(_download(client, world.users[Role.CITY]))
    assert len(rows) == 5  # the header and the city's four households


@pytest.mark.django_db
def test_download_with_a_place_outside_the_scope_is_not_found(client, world):
    client.force_login(world.users[Role.TOWNSHIP])
    response = client.get(DOWNLOAD, {"county": f.MINQING})
    assert response.status_code == 404
    assert world.minqing.household_no not in _text(response)


@pytest.mark.django_db
def test_download_is_pre_filled_from_the_latest_check_and_neutralises_formulas(client, world):
    user = world.users[Role.VILLAGE]
    record_archive_check(user=user, household=world.songkou, checked_on=date(2018, 12, 1), present_items=ITEMS)
    record_archive_check(
        user=user,
        household=world.songkou,
        checked_on=date(2018, 12, 5),
        present_items=ITEMS[:3],
        note='=HYPERLINK("http://x")',
    )
    content = _download(client, user)
    row = _row_of(_rows(content), world.songkou)
    assert row[DATE_COL] == date(2018, 12, 5)
    assert row[FIRST_ITEM : FIRST_ITEM + len(ITEMS)] == ["是"] * 3 + ["否"] * (len(ITEMS) - 3)
    assert row[-2:] == [user.display_name, '=HYPERLINK("http://x")']
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # written as text, never as a formula


# --- upload: round trip ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_round_trip_records_changed_rows_and_the_same_file_again_records_nothing(client, world):
    user = world.users[Role.TOWNSHIP]
    record_archive_check(
        user=user, household=world.village_other, checked_on=date(2018, 12, 1), present_items=ITEMS[:5]
    )
    rows = _rows(_download(client, user))
    _fill(_row_of(rows, world.songkou), date(2018, 12, 6), ITEMS[:8], checker="林小红", note="补齐中")
    content = _xlsx(rows)

    response = _upload(client, user, content)
    text = _text(response)
    assert response.status_code == 200, text
    assert "新登记核查 1 户" in text and "与已有核查相同、未重复登记 1 户" in text
    check = ArchiveCheck.objects.get(household=world.songkou)
    assert (check.checked_on, check.present_items, check.checker_name, check.note) == (
        date(2018, 12, 6),
        ITEMS[:8],
        "林小红",
        "补齐中",
    )
    assert check.checked_by == user and check.history.get().history_user == user

    response = _upload(client, user, content)
    assert "新登记核查 0 户" in _text(response) and "与已有核查相同、未重复登记 2 户" in _text(response)
    assert ArchiveCheck.objects.count() == 2

    # A fresh download of the same households, uploaded unchanged, records nothing either.
    response = _upload(client, user, _download(client, user))
    assert "新登记核查 0 户" in _text(response)
    assert ArchiveCheck.objects.count() == 2


@pytest.mark.django_db
def test_a_changed_row_on_the_same_date_is_a_new_check_and_history_is_kept(client, world):
    user = world.users[Role.VILLAGE]
    record_archive_check(user=user, household=world.songkou, checked_on=date(2018, 12, 5), present_items=ITEMS[:3])
    rows = _rows(_download(client, user))
    _fill(_row_of(rows, world.songkou), date(2018, 12, 5), ITEMS)  # the same day, now complete; no 核查人
    response = _upload(client, user, _xlsx(rows))
    assert "新登记核查 1 户" in _text(response)
    latest, first = ArchiveCheck.objects.filter(household=world.songkou).order_by("-id")
    assert latest.present_items == ITEMS and first.present_items == ITEMS[:3]
    assert latest.checker_name == user.display_name  # an empty 核查人 is the uploader


@pytest.mark.django_db
def test_rows_without_a_date_are_skipped_and_counted(client, world):
    user = world.users[Role.TOWNSHIP]
    response = _upload(client, user, _download(client, user))
    text = _text(response)
    assert response.status_code == 200
    assert "新登记核查 0 户" in text and "未填核查日期、已跳过 2 户" in text
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
def test_cell_forms_and_date_serials_are_understood(client, world):
    user = world.users[Role.VILLAGE]
    rows = _rows(_download(client, user))
    row = _row_of(rows, world.songkou)
    row[DATE_COL] = 43439.0  # the serial of 2018-12-05
    row[FIRST_ITEM : FIRST_ITEM + len(ITEMS)] = ["√", "×", "1", "0", "Y", "N", "有", "无", "是", "否"]
    response = _upload(client, user, _xlsx(rows))
    assert response.status_code == 200, _text(response)
    check = ArchiveCheck.objects.get()
    assert check.checked_on == date(2018, 12, 5)
    assert check.present_items == [ITEMS[0], ITEMS[2], ITEMS[4], ITEMS[6], ITEMS[8]]


@pytest.mark.django_db
def test_a_csv_in_gb18030_is_recorded(client, world):
    user = world.users[Role.TOWNSHIP]
    line = ["永泰县", "嵩口镇", "", world.songkou.household_no, "王建华", "2018/12/5", *(["是"] * len(ITEMS)), "", ""]
    text = "\r\n".join(",".join(row) for row in (HEADERS, line)) + "\r\n"
    response = _upload(client, user, text.encode("gb18030"), name="核查表.csv")
    assert response.status_code == 200, _text(response)
    assert "新登记核查 1 户" in _text(response)
    check = ArchiveCheck.objects.get()
    assert (check.household, check.checked_on, check.present_items) == (world.songkou, date(2018, 12, 5), ITEMS)


# --- upload: rejections ------------------------------------------------------------------------------


def _bad_cases(world) -> list[tuple[str, Any, int, str, str]]:
    """(what is wrong, how the row is changed, column index, column, expected reason)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    not_found = "找不到该户编号，或该户不在您的管辖范围内"
    return [
        ("unknown", lambda r: r.__setitem__(3, "350125999999999"), 3, "户编号", not_found),
        (
            "outside",
            lambda r: r.__setitem__(3, world.minqing.household_no),
            3,
            "户编号",
            not_found,
        ),
        ("impossible", lambda r: r.__setitem__(DATE_COL, "2018-02-30"), DATE_COL, "核查日期", "不是有效日期"),
        ("future", lambda r: r.__setitem__(DATE_COL, tomorrow), DATE_COL, "核查日期", "核查日期不能晚于今天"),
        ("early", lambda r: r.__setitem__(DATE_COL, "2013-12-31"), DATE_COL, "核查日期", "不能早于 2014 年"),
        ("yes-no", lambda r: r.__setitem__(FIRST_ITEM + 2, "大概"), FIRST_ITEM + 2, ITEMS[2], "应填 是/否"),
        ("blank item", lambda r: r.__setitem__(FIRST_ITEM + 4, ""), FIRST_ITEM + 4, ITEMS[4], "请填写“是”或“否”"),
        ("no date", lambda r: r.__setitem__(DATE_COL, ""), DATE_COL, "核查日期", "没有填写核查日期"),
        ("note", lambda r: r.__setitem__(len(HEADERS) - 1, "很" * 501), len(HEADERS) - 1, "备注", "内容过长"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("case", range(9), ids=lambda i: str(i))
def test_every_rejection_names_row_column_and_value_and_stores_nothing(client, world, case):
    what, change, col, column, reason = _bad_cases(world)[case]
    user = world.users[Role.TOWNSHIP]
    rows = _rows(_download(client, user))
    for row in rows[1:]:
        _fill(row, date(2018, 12, 5), ITEMS)  # every row good …
    bad = _row_of(rows, world.songkou)
    change(bad)  # … but one
    number = rows.index(bad) + 1
    response = _upload(client, user, _xlsx(rows))
    text = _text(response)
    assert response.status_code == 400, what
    assert "整个文件都没有保存" in text
    table = text[text.index('id="sheet-issues"') :]
    assert f"第 {number} 行" in table and f'<td class="text-nowrap">{column}</td>' in table and reason in table
    if isinstance(bad[col], str) and bad[col]:
        assert bad[col][:20] in table  # the value as written
    assert not ArchiveCheck.objects.exists()  # not even the good rows


@pytest.mark.django_db
def test_a_repeated_household_is_rejected_naming_the_first_row(client, world):
    user = world.users[Role.VILLAGE]
    rows = _rows(_download(client, user))
    _fill(rows[1], date(2018, 12, 5), ITEMS)
    rows.append(list(rows[1]))
    text = _text(_upload(client, user, _xlsx(rows)))
    assert "第 3 行" in text and "与第 2 行的户编号重复" in text
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("照片.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "无法读取该文件"),
        ("空表.xlsx", None, "文件中没有内容"),
        ("名单.xlsx", "other", "文件中没有一户一档核查表"),
        ("旧表.xlsx", "old", "缺少以下列：退出公示公告"),
        ("说明.docx", b"PK\x03\x04", "不是表格文件"),
        ("空.csv", b"", "上传的文件是空的"),
    ],
)
def test_files_that_are_no_archive_sheet_get_a_chinese_message(client, world, name, content, message):
    if content is None:
        content = _xlsx([])
    elif content == "other":
        content = _xlsx([["姓名", "证件号码"], ["王建华", "350125197005011234"]])
    elif content == "old":
        content = _xlsx([HEADERS[:-3] + HEADERS[-2:]])  # a sheet from before 退出公示公告 was on the list
    response = _upload(client, world.users[Role.TOWNSHIP], content, name=name)
    assert response.status_code == 400
    assert message in _text(response)
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
def test_no_file_is_a_form_error(client, world):
    client.force_login(world.users[Role.TOWNSHIP])
    response = client.post(UPLOAD, {})
    assert response.status_code == 400 and "请选择要上传的核查表文件" in _text(response)


# --- roles and pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", READERS)
def test_roles_that_may_not_edit_the_registry_get_403(client, world, role):
    client.force_login(world.users[role])
    assert client.get(DOWNLOAD).status_code == 403
    assert client.get(UPLOAD).status_code == 403
    content = _xlsx([HEADERS])
    assert client.post(UPLOAD, {"file": SimpleUploadedFile("a.xlsx", content)}).status_code == 403
    response = client.get("/households/")
    assert response.status_code == 200 and 'id="archive-sheet-actions"' not in _text(response)


@pytest.mark.django_db
@pytest.mark.parametrize("role", EDITORS)
def test_editors_see_the_buttons_carrying_the_filters(client, world, role):
    client.force_login(world.users[role])
    response = client.get("/households/", {"exit_year": "2017", "page": "1"} if role == Role.CITY else {})
    text = _text(response)
    assert 'id="archive-sheet-download"' in text and f'href="{UPLOAD}"' in text
    if role == Role.CITY:
        # The list's filters, not its page: the sheet is of every household the filters select.
        assert f'href="{DOWNLOAD}?exit_year=2017"' in text
    assert client.get(UPLOAD).status_code == 200


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(client):
    assert client.get(DOWNLOAD)["Location"].startswith("/login/")
    assert client.post(UPLOAD)["Location"].startswith("/login/")


@pytest.mark.django_db
def test_one_upload_lists_every_error_of_a_row(client, world):
    user = world.users[Role.VILLAGE]
    rows = _rows(_download(client, user))
    _fill(rows[1], "2013-05-01", ITEMS)
    rows[1][FIRST_ITEM] = "也许"
    text = _text(_upload(client, user, _xlsx(rows)))
    assert "文件中有 2 处错误" in text
    assert "不能早于 2014 年" in text and "应填 是/否" in text
