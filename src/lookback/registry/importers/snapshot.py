"""Sheet kind 7: a national snapshot (国扶系统快照). Household and member sheets imported with
`--as-national-snapshot` are validated exactly like registry sheets, then kept as a dated snapshot
instead of being merged: each row's normalised fields go to `data`, keyed by model field name, in a
JSON-safe canonical form (`canonical`) that the comparison applies to the registry side too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from lookback.registry.importers.base import CHUNK
from lookback.registry.importers.households import HouseholdImporter
from lookback.registry.importers.members import MemberImporter
from lookback.registry.importers.store import where_in
from lookback.registry.models import NationalHousehold, NationalMember

# Derived or bookkeeping fields that are not the national system's data.
NOT_DATA = frozenset({"village_id", "head_name_initials", "name_initials", "division_code", "household_id", "batch_id"})


def canonical(value: Any) -> Any:
    """One JSON-safe spelling per value, so that equal data compares equal whichever side it came from."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_data(record: dict[str, Any]) -> dict[str, Any]:
    return {k: canonical(v) for k, v in record.items() if k not in NOT_DATA}


class SnapshotHouseholdImporter(HouseholdImporter):
    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        snapshot = self.ctx.snapshot
        writer = self.ctx.writer(NationalHousehold)
        numbers = [record["household_no"] for _, record in self.pending]
        where, params = where_in("household_no", numbers)
        existing = {
            old["household_no"]: old
            for old in writer.fetch(f't."snapshot_id" = %s AND {where}', [snapshot.pk, *params])
        }
        pairs = []
        for _, record in self.pending:
            new = {
                "snapshot_id": snapshot.pk,
                "household_no": record["household_no"],
                "division_code": record["division_code"],
                "data": to_data(record),
            }
            pairs.append((new, existing.get(record["household_no"])))
        self.pending = []
        for stored in self.upsert(NationalHousehold, pairs, self.ctx.count(self.spec.code)):
            self.ctx.file_households[stored["household_no"]] = (stored["id"], stored["division_code"])


class SnapshotMemberImporter(MemberImporter):
    def resolve_households(self, numbers: set[str]) -> dict[str, tuple[int, str]]:
        """Members of a snapshot belong to the snapshot's households, not to the registry's."""
        found = {n: self.ctx.file_households[n] for n in numbers if n in self.ctx.file_households}
        rest = [n for n in numbers if n not in found]
        for start in range(0, len(rest), CHUNK):
            rows = NationalHousehold.objects.filter(
                snapshot=self.ctx.snapshot, household_no__in=rest[start : start + CHUNK]
            ).values_list("household_no", "id", "division_code")
            for no, pk, code in rows:
                found[no] = (pk, code)
        return found

    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        ready = self.take_households()
        if not ready:
            return
        snapshot = self.ctx.snapshot
        writer = self.ctx.writer(NationalMember)
        numbers = [r["member_no"] for _, r, _, _ in ready if r["member_no"]]
        ids = [r["id_number"] for _, r, _, _ in ready if not r["member_no"]]
        existing: dict[tuple[str, str], dict[str, Any]] = {}
        by_number, number_params = where_in("member_no", numbers)
        for old in writer.fetch(f't."snapshot_id" = %s AND {by_number}', [snapshot.pk, *number_params]):
            existing[("no", old["member_no"])] = old
        by_id, id_params = where_in("id_number", ids)
        for old in writer.fetch(
            f't."snapshot_id" = %s AND t."member_no" = \'\' AND {by_id}', [snapshot.pk, *id_params]
        ):
            existing.setdefault(("id", old["id_number"]), old)
        pairs = []
        for _, record, _, code in ready:
            key = ("no", record["member_no"]) if record["member_no"] else ("id", record["id_number"])
            new = {
                "snapshot_id": snapshot.pk,
                "household_no": record["household_no"],
                "member_no": record["member_no"] or "",
                "id_number": record.get("id_number") or "",
                "division_code": code,
                "data": to_data({k: v for k, v in record.items() if k != "household_no"}),
            }
            pairs.append((new, existing.get(key)))
        self.upsert(NationalMember, pairs, self.ctx.count(self.spec.code))
