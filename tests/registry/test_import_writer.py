"""The import's write-behind: new rows and history rows are written on a worker thread while the main
thread checks the next chunk, in the same transaction, and a failure on either side stores nothing."""

from __future__ import annotations

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

    def clashing(self, count):
        ids = reserve(self, count)
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
