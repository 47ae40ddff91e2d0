"""Large files are read in a reader process: it must give exactly what reading in the importing process
gives — stored rows, counts, errors, warnings, language — and a reader that fails must store nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.utils import translation

from lookback.accounts.roles import Role
from lookback.registry.importers import reader_process
from lookback.registry.models import Household, ImportBatch, Member
from tests import factories as f
from tests.registry.test_import_helpers import (
    household_row,
    member_row,
    run,
    table,
    valid_id,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_reader_process(monkeypatch):
    """Every file, however small, goes through the reader process."""
    monkeypatch.setattr(reader_process, "MIN_BYTES", 0)
    calls = []
    real = reader_process.read_file

    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(args[0])
        real(*args, **kwargs)

    monkeypatch.setattr(reader_process, "read_file", counted)
    return calls


def _workbook(tmp_path, *, bad: bool = False):
    households = [household_row(f"H{i}", 户主姓名=f"林{i}") for i in range(1, 31)]
    members = [
        member_row(f"H{i}", f"M{i}-{j}", 证件号码=valid_id(seq=i * 10 + j)) for i in range(1, 31) for j in (1, 2)
    ]
    members[3]["证件号码"] = "350125198503091234"  # wrong check digit: a warning
    members[5]["备注"] = "外出务工"  # an unknown column: kept as extra
    if bad:
        members[7]["性别"] = "未知"  # not in the code list: an error
        members[9]["人编号"] = members[8]["人编号"]  # a duplicate key: an error from the importer's own check
        households[4]["家庭人口数"] = "三"  # not a number
        households[6]["行政村"] = "不存在村"  # no such village: found (not) in the reader's copy of the divisions
        households[8]["户编号"] = "H8"  # a household number twice in the sheet
    sheets = {
        "成员": table(members, [*members[0], "备注"]),
        "户": table(households),
    }  # members first: they wait for their households
    return write_xlsx(tmp_path / ("bad.xlsx" if bad else "good.xlsx"), sheets)


def _stored() -> list[tuple]:
    rows = [
        tuple(v for k, v in r.items() if k not in ("id", "created_at", "updated_at", "batch_id", "household_id"))
        for r in Household.objects.order_by("household_no").values()
    ]
    rows += [
        (
            r.pop("household__household_no"),
            *(v for k, v in r.items() if k not in ("id", "created_at", "updated_at", "batch_id", "household_id")),
        )
        for r in Member.objects.order_by("member_no").values(
            "household__household_no", *[f.attname for f in Member._meta.concrete_fields]
        )
    ]
    return rows


def _outcome(batch: ImportBatch) -> tuple:
    return (
        batch.status,
        batch.rows_new,
        batch.rows_updated,
        batch.rows_unchanged,
        batch.kind,
        batch.errors,
        batch.warnings,
        batch.details["counts"],
        batch.details["sheets"],
    )


def _both_ways(path, monkeypatch, calls) -> tuple[tuple, list, tuple, list]:
    with transaction.atomic():
        through_process = run(path)
        stored_by_process = _stored()
        transaction.set_rollback(True)
    assert calls == [path], "the file was not read in a reader process"
    monkeypatch.setattr(reader_process, "MIN_BYTES", 10**15)
    in_process = run(path)
    assert calls == [path]
    return _outcome(through_process), stored_by_process, _outcome(in_process), _stored()


def test_a_good_file_is_stored_the_same_through_the_reader_process(tmp_path, monkeypatch, in_reader_process):
    by_process, stored_by_process, in_process, stored_in_process = _both_ways(
        _workbook(tmp_path), monkeypatch, in_reader_process
    )
    assert by_process[0] == "stored", by_process
    assert by_process[1] == 90 and by_process[6], "30 households, 60 members and a warning expected"
    assert by_process == in_process
    assert stored_by_process == stored_in_process and len(stored_in_process) == 90
    assert Member.objects.get(member_no="M3-2").extra == {"备注": "外出务工"}


def test_a_file_with_errors_is_reported_the_same_and_stores_nothing(tmp_path, monkeypatch, in_reader_process):
    by_process, stored_by_process, in_process, _ = _both_ways(
        _workbook(tmp_path, bad=True), monkeypatch, in_reader_process
    )
    assert by_process[0] == "rejected"
    reasons = {(e["row"], e["column"]) for e in by_process[5]}
    assert {(9, "性别"), (6, "家庭人口数"), (8, "行政村"), (10, "户编号")} <= reasons and any(
        e["column"] == "人编号" for e in by_process[5]
    )
    assert by_process == in_process
    assert stored_by_process == []


def test_csv_and_an_unreadable_file_through_the_reader_process(tmp_path, in_reader_process):
    batch = run(write_csv(tmp_path / "户.csv", table([household_row("C1")]), encoding="gb18030"))
    assert batch.status == "stored" and Household.objects.filter(household_no="C1").exists()
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook" * 100)
    batch = run(broken)
    assert batch.status == "rejected"
    assert "无法读取该文件" in batch.errors[0]["reason"]
    assert len(in_reader_process) == 2


def test_the_reader_process_reports_in_the_importers_language(tmp_path, in_reader_process):
    rows = table([household_row("E1", 家庭人口数="many")])
    with translation.override("en"):
        batch = run(write_csv(tmp_path / "h.csv", rows))
    assert batch.status == "rejected"
    assert [e["reason"] for e in batch.errors if e["column"] == "家庭人口数"] == ["Not a number"]


@pytest.mark.parametrize(
    "child",
    [
        "import sys; sys.exit(3)",  # ends before sending anything
        "import sys, django; django.setup(); raise ValueError('broken reader')",
    ],
)
def test_a_failing_reader_process_stores_nothing(tmp_path, monkeypatch, in_reader_process, child):
    monkeypatch.setattr(reader_process, "_CHILD", child)
    batch = run(_workbook(tmp_path))
    assert batch.status == "failed"
    assert "内部错误" in batch.errors[0]["reason"]
    assert not Household.objects.exists() and not Member.objects.exists()


def test_a_township_officer_through_the_reader_process_is_held_to_the_township(
    tmp_path, monkeypatch, in_reader_process
):
    """The reader finds each household's place and checks it against the importer's scope, as the
    importing process would: the same refusal both ways, and the batch is filed under the place."""
    officer = f.make_user(Role.TOWNSHIP, f.SONGKOU, "t-officer")
    other = f.first_village(f.MINQING)
    rows = table([household_row("S1"), household_row("S2", 县="闽清县", 乡镇=other.parent.name, 行政村=other.name)])
    path = write_csv(tmp_path / "户.csv", rows)
    with transaction.atomic():
        through_process = run(path, user=officer)
        transaction.set_rollback(True)
    monkeypatch.setattr(reader_process, "MIN_BYTES", 10**15)
    in_process = run(path, user=officer)
    assert _outcome(through_process) == _outcome(in_process)
    assert [(e["row"], e["column"]) for e in through_process.errors] == [(3, "行政村")]
    good = write_csv(tmp_path / "好.csv", table([household_row("S1")]))
    monkeypatch.setattr(reader_process, "MIN_BYTES", 0)
    stored = run(good)  # no user: filed under the place its rows share
    assert stored.status == "stored" and stored.division_code.startswith(f.SONGKOU[:9])


def test_the_reader_process_can_be_switched_off(tmp_path, settings, in_reader_process):
    settings.IMPORT_READER_PROCESS = False  # LOOKBACK_IMPORT_READER_PROCESS=0
    batch = run(write_csv(tmp_path / "户.csv", table([household_row("O1")])))
    assert batch.status == "stored" and in_reader_process == []


def test_the_reader_never_waits_for_the_importing_side(tmp_path):
    """The importing side takes the reader's messages off the pipe as they come (a thread), so the reader
    goes on while a chunk is being stored: here it writes several pipes' worth while nobody asks for one."""
    import os
    import threading

    read_end, write_end = os.pipe()
    stream = os.fdopen(read_end, "rb", buffering=1 << 20)
    receiver = reader_process._Receiver(stream)
    receiver.start()
    messages = [bytes([n]) * 200_000 for n in range(10)]  # 2 MB; a pipe holds 64 KB

    def write() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            for message in messages:
                pipe.write(reader_process._FRAME.pack(len(message)) + message)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=20)
    assert not writer.is_alive(), "the reader had to wait until the importing side asked for its rows"
    assert [receiver.get() for _ in messages] == messages
    # The pipe ended without the reader's "done": the import fails rather than store half a file.
    with pytest.raises(reader_process.ReaderFailed):
        receiver.get()
    receiver.stop()
    stream.close()
    assert not receiver.is_alive()


def test_the_pipe_holds_a_whole_write_of_the_reader():
    """The reader writes up to `PIPE_BYTES` at a time; a pipe of 64 KB made it wait for the receiving
    thread (and that thread for the importing process's GIL) sixteen times a write."""
    import fcntl
    import os

    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are Linux's")
    read_end, write_end = os.pipe()
    try:
        assert fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ) < reader_process.PIPE_BYTES
        reader_process._widen(write_end)
        assert fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ) == reader_process.PIPE_BYTES
    finally:
        os.close(read_end)
        os.close(write_end)
