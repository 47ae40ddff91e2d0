"""The import's write-behind: new rows and history rows are written on a worker thread while the main
thread checks the next chunk, in the same transaction, and a failure on either side stores nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import pytest

from lookback.registry.importers import base, store
from lookback.registry.models import Household, ImportBatch, Member
from tests.registry.test_import_helpers import household_row, member_row, run, table, write_csv, write_xlsx

pytestmark = pytest.mark.django_db


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("import-writer")]


def _workbook(tmp_path, name: str, households: int, members_per_household: int = 2):
    house_rows = [household_row(f"{name}{n}") for n in range(households)]
    member_rows = [
        member_row(f"{name}{n}", f"{name}{n}-{k}") for n in range(households) for k in range(members_per_household)
    ]
    return write_xlsx(tmp_path / f"{name}.xlsx", {"户": table(house_rows), "人": table(member_rows)})


def test_rows_are_written_on_the_writer_thread_in_chunks_that_later_reads_see(tmp_path, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(base, "CHUNK", 7)  # several chunks per sheet: each read waits for the writes before it
    threads: dict[str, set[str]] = {"insert": set(), "history": set()}
    insert, execute = store._insert, store._execute

    def spy_insert(raw, *args):
        threads["insert"].add(threading.current_thread().name.partition("_")[0])
        insert(raw, *args)

    def spy_execute(raw, *args):
        threads["history"].add(threading.current_thread().name.partition("_")[0])
        execute(raw, *args)

    monkeypatch.setattr(store, "_insert", spy_insert)
    monkeypatch.setattr(store, "_execute", spy_execute)
    path = _workbook(tmp_path, "A", households=20)
    batch = run(path)
    assert batch.status == "stored", batch.errors
    # SQLite inserts in the main thread (see TableWriter.insert); history rows are copied behind it.
    main = "MainThread"
    assert threads == {
        "insert": {main if connection.vendor == "sqlite" else "import-writer"},
        "history": {"import-writer"},
    }
    assert Household.objects.count() == 20 and Member.objects.count() == 40
    assert Household.history.count() == 20 and Member.history.count() == 40
    assert not _writer_threads()

    again = run(path)  # the same file: nothing is written
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 60)
    assert Household.history.count() == 20 and Member.history.count() == 40


def test_a_failed_write_on_the_writer_thread_stores_nothing_of_the_file(tmp_path, monkeypatch):
    first = run(_workbook(tmp_path, "A", households=2))
    assert first.status == "stored", first.errors
    taken = Member.objects.order_by("id").first().pk
    reserve = store.TableWriter.reserve_ids

    def clashing(self, count, ahead=0):
        ids = reserve(self, count, ahead)
        return [taken, *ids[1:]] if self.model is Member and ids else ids  # a primary key already used

    monkeypatch.setattr(store.TableWriter, "reserve_ids", clashing)
    households, members = Household.objects.count(), Member.objects.count()
    batch = run(_workbook(tmp_path, "B", households=3))
    assert batch.status == ImportBatch.Status.FAILED
    assert "IntegrityError" in batch.errors[0]["reason"]
    # the households written before the failure are rolled back with the rest of the file
    assert (Household.objects.count(), Member.objects.count()) == (households, members)
    assert not Household.objects.filter(household_no__startswith="B").exists()
    assert not Household.history.filter(household_no__startswith="B").exists()
    assert not _writer_threads()


def test_an_error_in_the_main_thread_waits_for_the_writer_before_rolling_back(tmp_path, monkeypatch):
    """A write still running when the main thread fails must end before the transaction does: after the
    rollback it would run outside the transaction (and be committed on its own) or race with it."""
    from lookback.registry import services_import

    events: list[str] = []
    execute, finish, finish_batch = store._execute, base.SheetImporter.finish, services_import._finish

    def slow(raw, statements):
        time.sleep(0.3)
        execute(raw, statements)
        events.append("written")

    def broken(self):
        finish(self)  # the sheet's last rows go to the writer, then the main thread fails
        raise RuntimeError("a bug while checking rows")

    def finishing(*args, **kwargs):
        events.append("transaction over")
        finish_batch(*args, **kwargs)

    monkeypatch.setattr(store, "_execute", slow)
    monkeypatch.setattr(base.SheetImporter, "finish", broken)
    monkeypatch.setattr(services_import, "_finish", finishing)
    batch = run(write_csv(tmp_path / "h.csv", table([household_row("H1"), household_row("H2")])))
    assert batch.status == ImportBatch.Status.FAILED
    assert "RuntimeError" in batch.errors[0]["reason"]
    assert events == ["written", "transaction over"]
    assert not Household.objects.exists() and not Household.history.exists()
    assert not _writer_threads()


def test_new_rows_carry_the_import_time_to_the_microsecond_passed_to_the_database_as_text(tmp_path, monkeypatch):
    """The timestamp of new rows travels as text (on PostgreSQL too, where COPY would otherwise format
    the same datetime for every row) and is stored as the same instant, microseconds included."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    now = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: now)
    stamps: set[type] = set()
    insert = store._insert

    def spy(raw, table_name, columns, values):
        at = [columns.index("created_at"), columns.index("updated_at")]
        rows = list(values)
        stamps.update(type(row[i]) for row in rows for i in at)
        insert(raw, table_name, columns, rows)

    monkeypatch.setattr(store, "_insert", spy)
    batch = run(_workbook(tmp_path, "T", households=3))
    assert batch.status == "stored", batch.errors
    assert stamps == {str}
    for model in (Household, Member):
        assert set(model.objects.values_list("created_at", "updated_at")) == {(now, now)}
        assert set(model.history.values_list("history_date", flat=True)) == {now}
    assert Household.objects.get(household_no="T0").created_at.microsecond == 123456


def test_booleans_are_stored_as_1_and_0_and_read_back_as_booleans(tmp_path):
    from django.db import connection

    if connection.vendor == "sqlite":  # bound by the adapter, not after sqlite3's failed protocol lookups
        assert sqlite3.adapters[(bool, sqlite3.PrepareProtocol)] is int
    path = write_csv(
        tmp_path / "m.csv",
        table([member_row("H1", "H1-1", 是否享受低保="是", 是否参加大病保险="否", 是否参加城乡居民基本医疗保险="")]),
    )
    run(write_csv(tmp_path / "h.csv", table([household_row("H1")])))
    batch = run(path)
    assert batch.status == "stored", batch.errors
    member = Member.objects.get()
    assert (member.is_dibao, member.has_serious_illness, member.has_basic_medical) == (True, False, None)
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "is_dibao" = %s, "has_serious_illness" = %s, "has_basic_medical" IS NULL FROM "registry_member"',
            [True, False],
        )
        assert cursor.fetchone() == ((1, 1, 1) if connection.vendor == "sqlite" else (True, True, True))
        if connection.vendor == "sqlite":
            cursor.execute('SELECT typeof("is_dibao"), "is_dibao", "has_serious_illness" FROM "registry_member"')
            assert cursor.fetchone() == ("integer", 1, 0)
    assert Member.history.get().is_dibao is True


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # divisions kept
def test_a_dangling_foreign_key_fails_the_import_and_stores_nothing(tmp_path, monkeypatch):
    """On SQLite the import's rows are written with foreign-key checks off and checked once before
    commit; on PostgreSQL the deferred check at commit fails. Either way nothing of the file stays."""
    from django.db import connection

    switched: list[int] = []
    insert = store.TableWriter.insert

    def dangling(self, rows):
        if self.model is Member and rows:
            rows[-1]["household_id"] = 10**9  # no such household
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys")
                switched.append(cursor.fetchone()[0])
        insert(self, rows)

    monkeypatch.setattr(store.TableWriter, "insert", dangling)
    batch = run(_workbook(tmp_path, "D", households=3))
    assert batch.status == ImportBatch.Status.FAILED
    assert "IntegrityError" in batch.errors[0]["reason"]
    assert not Household.objects.exists() and not Member.objects.exists()
    assert not Household.history.exists() and not Member.history.exists()
    if connection.vendor == "sqlite":
        assert switched and set(switched) == {0}  # off while the rows were written
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1  # and on again afterwards
    assert not _writer_threads()

    monkeypatch.setattr(store.TableWriter, "insert", insert)
    again = run(_workbook(tmp_path, "D", households=3))
    assert again.status == "stored", again.errors
    assert (Household.objects.count(), Member.objects.count()) == (3, 6)


def test_writes_queued_behind_the_main_thread_are_bounded(tmp_path, monkeypatch):
    """The main thread goes on while chunks are written behind it, but never more than
    MAX_QUEUED_WRITES ahead: the rows of queued chunks are held in memory until written."""
    from django.db import connection

    monkeypatch.setattr(base, "CHUNK", 2)
    monkeypatch.setattr(store, "MAX_QUEUED_WRITES", 2)
    # A first load into empty tables: no query per chunk that would wait for the writes anyway.
    monkeypatch.setattr(store, "DEFER_MIN_ROWS", 1)
    monkeypatch.setattr(store, "DEFER_MIN_SHARE", 0)
    execute, run_job = store._execute, store.WriteBehind.run
    queued: list[int] = []

    def slow(raw, statements):
        time.sleep(0.02)
        execute(raw, statements)

    def counting(self, job, *args, here=False):
        run_job(self, job, *args, here=here)
        queued.append(len(self._pending))

    monkeypatch.setattr(store, "_execute", slow)
    monkeypatch.setattr(store.WriteBehind, "run", counting)
    batch = run(_workbook(tmp_path, "Q", households=15))
    assert batch.status == "stored", batch.errors
    assert Member.objects.count() == 30 and Member.history.count() == 30
    # SQLite inserts on the main thread, after what is queued: at most a chunk's history rows wait.
    assert max(queued) == (2 if connection.vendor == "postgresql" else 1)


def test_a_new_rows_values_take_defaults_for_missing_fields_and_adapt_only_non_null_values():
    values = store._values_function(
        ["created_at", "name", "extra", "health", "note"],
        {"created_at": "2026-12-04T00:00:00+00:00", "name": "", "extra": {}, "health": [], "note": None},
        {"extra": store._json_text, "health": store._json_text, "note": str.upper},
        constant=["created_at"],
    )
    row = {"id": 7, "name": "张三", "health": ["残疾", "长期慢性病"], "note": None, "_state": "new"}
    assert values(row) == (7, "2026-12-04T00:00:00+00:00", "张三", "{}", '["残疾", "长期慢性病"]', None)
    assert values({"id": 8, "note": "x", "extra": {"备注": "有"}}) == (
        8,
        "2026-12-04T00:00:00+00:00",
        "",
        '{"备注": "有"}',
        "[]",
        "X",
    )


def test_json_text_of_code_lists_is_written_once_per_combination_and_stays_exact():
    assert store._json_text(["健康"]) == store._json_text(["健康"]) == '["健康"]'
    assert store._json_text([1]) == "[1]" and store._json_text([True]) == "[true]"  # not taken for one another
    assert store._json_text([{"a": 1}]) == '[{"a": 1}]'
    assert store._json_text({}) == "{}" and store._json_text([]) == "[]"
