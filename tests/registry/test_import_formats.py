"""File formats: CSV encodings, workbooks written by LibreOffice (xlsx, ods, xls), the command line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from lookback.registry.importers import engine
from lookback.registry.importers.base import Options
from lookback.registry.models import Household, ImportBatch, Member
from tests.registry.test_import_helpers import household_row, member_row, run, table, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(tmp_path, encoding):
    rows = table([household_row("H1", 行政村="邹湖村委会", 户主姓名="王建华")])
    batch = run(write_csv(tmp_path / "h.csv", rows, encoding=encoding))
    assert batch.status == "stored", batch.errors
    household = Household.objects.get()
    assert household.head_name == "王建华" and household.village.name == "邹湖村委会"


def test_semicolon_separated_csv(tmp_path):
    rows = table([household_row("H1")])
    path = tmp_path / "h.csv"
    path.write_text("\n".join(";".join(str(c) for c in row) for row in rows), encoding="utf-8")
    assert run(path).status == "stored"


def _soffice(tmp_path: Path, target: str, sources: list[Path], outdir: str, text_columns: bool) -> Path:
    if SOFFICE is None:
        pytest.fail("LibreOffice is missing: the test command installs it (apt-get install libreoffice-calc-nogui)")
    # CSV import options: comma, double quote, UTF-8, from line 1, then per-column formats (2 = text).
    options = "44,34,76,1" + (",1/2/" + "/".join(f"{n}/2" for n in range(2, 31)) if text_columns else "")
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
         f"--infilter=CSV:{options}", "--convert-to", target, "--outdir", str(tmp_path / outdir),
         *map(str, sources)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return tmp_path / outdir


def test_workbooks_written_by_libreoffice(tmp_path):
    ids = ["350125198503090028", "350125198503090036"]  # check digits, not X: they look like numbers
    households = write_csv(
        tmp_path / "households.csv",
        table([household_row("H1", 户主证件号码=ids[0]), household_row("H2", 行政村="月阙", 户主证件号码=ids[1])]),
    )
    members = write_csv(
        tmp_path / "members.csv", table([member_row("H1", "M1"), member_row("H2", "M2", 是否享受低保="√")])
    )
    # Opened the way a user opens a CSV, LibreOffice turns the 18-digit ID numbers into numbers: refused.
    folder = _soffice(tmp_path, "xlsx", [households], "guessed", text_columns=False)
    batch = run(folder / "households.xlsx")
    assert batch.status == "rejected"
    assert {(e["row"], e["column"]) for e in batch.errors} == {(2, "户主证件号码"), (3, "户主证件号码")}
    assert all("丢失位数" in e["reason"] for e in batch.errors)
    assert not Household.objects.exists()

    # With the columns typed as text, every format LibreOffice writes imports, and says the same.
    for target in ("xlsx", "ods", "xls"):
        folder = _soffice(tmp_path, target, [households, members], target, text_columns=True)
        for name in ("households", "members"):
            batch = run(folder / f"{name}.{target}")
            assert batch.status == "stored", (target, name, batch.errors)
    assert Household.objects.count() == 2 and Member.objects.count() == 2
    assert Member.objects.get(member_no="M2").is_dibao is True
    # three formats, same rows: the second and third imports of each file changed nothing
    assert ImportBatch.objects.filter(status="stored", rows_new=0, rows_updated=0).count() == 4


def test_command_line_exit_codes_and_report(tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", table([household_row("H1")]))
    bad = write_csv(tmp_path / "bad.csv", table([household_row("H2", 主要致贫原因="因穷")]))
    call_command("import", str(good))
    out = capsys.readouterr().out
    assert "good.csv：已导入" in out and "新增 1" in out

    with pytest.raises(SystemExit) as exc:
        call_command("import", str(bad))
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "第 2 行" in err and "主要致贫原因" in err and "错误报告：" in err
    report = Path(err.split("错误报告：")[1].strip())
    assert report.exists() and report.suffix == ".xlsx"
    assert Household.objects.count() == 1

    call_command("import", str(good), "--dry-run")
    assert "检查通过（未写入）" in capsys.readouterr().out


def test_command_line_dept_kind_and_snapshot_options(tmp_path, capsys):
    rows = [["证件号码", "姓名", "参保年度"], ["350125198503090011", "王建华", "2018"]]
    call_command("import", str(write_csv(tmp_path / "医保.csv", rows)), "--kind", "medical")
    assert "已导入" in capsys.readouterr().out
    path = write_csv(tmp_path / "国扶.csv", table([household_row("N1")]))
    call_command("import", str(path), "--as-national-snapshot", "--snapshot-date", "2018-11-30")
    assert not Household.objects.exists()
    from lookback.registry.models import NationalSnapshot

    snapshot = NationalSnapshot.objects.get()
    assert str(snapshot.snapshot_date) == "2018-11-30" and snapshot.households.count() == 1


@pytest.mark.parametrize(("limit", "ahead"), [(1000, True), (5, False)])
def test_the_next_sheet_is_loaded_ahead_only_after_a_small_enough_sheet(tmp_path, monkeypatch, limit, ahead):
    """Both sheets in memory at once must fit the memory budget: the current sheet's cells decide."""
    from lookback.registry.importers import readers

    monkeypatch.setattr(readers, "PRELOAD_MAX_CELLS", limit)
    path = write_xlsx(
        tmp_path / "two.xlsx", {"户": table([household_row("H1")]), "人": table([member_row("H1", "M1")])}
    )
    first, second = readers.open_sheets(path)
    first.then = second
    next(first.rows())  # 2 rows of 12 columns: 24 cells
    assert (second._loading is not None) is ahead
    assert [row[0] for row in second.rows()] == ["户编号", "H1"]


@pytest.mark.parametrize(
    ("column", "value"),
    [("户主姓名", "王\x00建华"), ("户主证件号码", "3501251985\x0003090028"), ("联系电话", "\x00")],
)
def test_a_nul_character_in_a_cell_is_an_error_naming_the_cell(tmp_path, column, value):
    """PostgreSQL cannot store NUL in text: the file is refused with the cell named, on every database
    alike, instead of failing as an internal error when the rows are written."""
    rows = table([household_row("H1", 联系电话="13800000000"), household_row("H2", **{column: value})])
    batch = run(write_csv(tmp_path / "h.csv", rows))
    assert batch.status == "rejected"
    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, column)]
    assert "空字符" in batch.errors[0]["reason"]
    assert not Household.objects.exists()


def test_a_nul_character_in_an_unknown_column_or_the_preview_is_left_out(tmp_path):
    rows = table([household_row("H1")])
    rows[0].append("备\x00用")
    rows[1].append("甲\x00乙")
    path = write_csv(tmp_path / "h.csv", rows)
    (sheet,) = engine.preview(path, Options())  # the upload page stores it as JSON
    assert "\x00" not in repr((sheet.plan.headers, sheet.plan.extras, sheet.sample))
    batch = run(path)
    assert batch.status == "stored", batch.errors
    assert Household.objects.get().extra == {"备用": "甲乙"}


def test_a_small_first_sheet_and_the_next_load_side_by_side_from_the_start(tmp_path, monkeypatch):
    """By the size of each sheet's XML in the .xlsx, known before anything is loaded: the next sheet
    starts loading on the other core before the first one does, when the first is small enough."""
    from lookback.registry.importers import readers

    path = write_xlsx(
        tmp_path / "two.xlsx", {"户": table([household_row("H1")]), "人": table([member_row("H1", "M1")])}
    )
    sizes = readers._xml_sizes(path)
    assert sizes is not None and len(sizes) == 2 and all(size > 100 for size in sizes)
    assert readers._xml_sizes(write_csv(tmp_path / "h.csv", table([household_row("H1")]))) is None
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    assert readers._xml_sizes(broken) is None

    events = []
    real_load, real_preload = readers._load_sheet, readers.SheetSource.preload
    monkeypatch.setattr(readers, "_load_sheet", lambda p, index: events.append(("load", index)) or real_load(p, index))
    monkeypatch.setattr(
        readers.SheetSource, "preload", lambda self: events.append(("ahead", self.index)) or real_preload(self)
    )
    first, second = readers.open_sheets(path)
    assert (first.xml_bytes, second.xml_bytes) == tuple(sizes)
    first.then = second
    next(first.rows())
    assert events[0] == ("ahead", 1)  # before the first sheet's own load
    assert [row[0] for row in second.rows()] == ["户编号", "H1"]
