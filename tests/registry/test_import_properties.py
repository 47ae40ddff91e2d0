"""Property tests: whatever the cells or the bytes, the importer answers with a batch (stored or
rejected), never an unhandled exception, and a rejected file leaves the database as it was."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lookback.registry.importers import cells
from lookback.registry.importers.engine import SHEET_SPECS
from lookback.registry.importers.households import SPEC as HOUSEHOLD_SPEC
from lookback.registry.models import Household, ImportBatch, Member
from tests.registry.test_import_helpers import household_row, member_row, run, table, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

cell_values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(["", " ", "是", "否", "√", "×", "01", "1", "3.50125E+17", "2018-02-30", "20181205", "永泰", "—",
                     "1,234.5", "（元）", "=\"350125\"", "'0591", "\u3000", "NaN", "inf", "-0", "9" * 40]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.datetimes(min_value=dt.datetime(1, 1, 1)),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(value=cell_values)
def test_every_cell_parser_returns_or_raises_a_cell_error(value):
    for spec in SHEET_SPECS:
        for column in spec.columns:
            try:
                column.parser(value)
            except cells.CellError as exc:
                assert exc.reason


def _snapshot_counts() -> tuple[int, ...]:
    return (
        Household.objects.count(),
        Member.objects.count(),
        Household.history.count(),
        Member.history.count(),
    )


@PROPERTY_SETTINGS
@given(
    cells_by_header=st.dictionaries(st.sampled_from([c.header for c in HOUSEHOLD_SPEC.columns]), cell_values),
    as_csv=st.booleans(),
)
def test_malformed_household_cells_never_crash_and_rejection_changes_nothing(db, cells_by_header, as_csv):
    good = household_row("G1")
    bad = household_row("B1")
    bad.update(cells_by_header)
    rows = table([good, bad], list(dict.fromkeys([*good, *bad])))
    before = _snapshot_counts()
    with tempfile.TemporaryDirectory() as folder:
        if as_csv:
            rows = [[cells.display(v) for v in row] for row in rows]
            path = write_csv(Path(folder) / "h.csv", rows)
        else:
            path = write_xlsx(Path(folder) / "h.xlsx", {"户": rows})
        batch = run(path)
    assert batch.status in (ImportBatch.Status.STORED, ImportBatch.Status.REJECTED), batch.errors
    if batch.status == ImportBatch.Status.REJECTED:
        assert batch.errors and all(e["reason"] for e in batch.errors)
        assert _snapshot_counts() == before


@PROPERTY_SETTINGS
@given(
    cells_by_header=st.dictionaries(st.sampled_from(list(member_row("H", "M"))), cell_values, max_size=4),
    garbage=st.lists(st.lists(cell_values, max_size=6), max_size=4),
)
def test_malformed_member_rows_and_garbage_rows_never_crash(db, cells_by_header, garbage):
    household = household_row("HX")
    member = member_row("HX", "MX")
    member.update(cells_by_header)
    before = _snapshot_counts()
    with tempfile.TemporaryDirectory() as folder:
        path = write_xlsx(
            Path(folder) / "hm.xlsx",
            {"户": table([household]), "人": [*table([member]), *garbage], "杂": garbage or [["x"]]},
        )
        batch = run(path)
    assert batch.status in (ImportBatch.Status.STORED, ImportBatch.Status.REJECTED), batch.errors
    if batch.status == ImportBatch.Status.REJECTED:
        assert _snapshot_counts() == before


@PROPERTY_SETTINGS
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".ods", ".bin"]))
def test_arbitrary_bytes_are_rejected_not_crashed(db, data, suffix):
    before = _snapshot_counts()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"f{suffix}"
        path.write_bytes(data)
        batch = run(path)
    assert batch.status in (ImportBatch.Status.STORED, ImportBatch.Status.REJECTED)
    assert _snapshot_counts() == before
