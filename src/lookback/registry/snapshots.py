"""Comparing a national snapshot (国扶系统快照) with the registry, field by field (二(三) 准确度).

Both sides hold normalised values (codes as current labels, village codes, `canonical` numbers), so
what differs is a real difference, not a spelling. The comparison is a merge of two streams ordered
by 户编号, so a city's 300,000 households never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Collate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lookback.accounts.roles import VIEW_PII
from lookback.core.masking import mask_id_number, mask_phone
from lookback.divisions.models import Division
from lookback.registry.importers import households as household_sheet
from lookback.registry.importers import members as member_sheet
from lookback.registry.importers.snapshot import canonical
from lookback.registry.models import Household, Member, NationalHousehold, NationalMember, NationalSnapshot

# The fields compared: the sheet columns that are registry fields (places compare as the village code).
HOUSEHOLD_FIELDS = [
    c.field for c in household_sheet.SPEC.columns if c.field and c.field not in household_sheet.PLACE_FIELDS
]
MEMBER_FIELDS = [c.field for c in member_sheet.SPEC.columns if c.field and c.field != "household_no"]
LABELS = {
    **{c.field: c.header for c in household_sheet.SPEC.columns if c.field},
    **{f"member.{c.field}": c.header for c in member_sheet.SPEC.columns if c.field},
    "division_code": _("所在村"),
}


class Kind:
    MISSING_IN_REGISTRY = "missing_in_registry"
    MISSING_IN_SNAPSHOT = "missing_in_snapshot"
    FIELD = "field"
    MEMBER_MISSING_IN_REGISTRY = "member_missing_in_registry"
    MEMBER_MISSING_IN_SNAPSHOT = "member_missing_in_snapshot"
    MEMBER_FIELD = "member_field"


KIND_LABELS = {
    Kind.MISSING_IN_REGISTRY: _("国扶系统有、台账没有的户"),
    Kind.MISSING_IN_SNAPSHOT: _("台账有、国扶系统没有的户"),
    Kind.FIELD: _("户信息不一致"),
    Kind.MEMBER_MISSING_IN_REGISTRY: _("国扶系统有、台账没有的成员"),
    Kind.MEMBER_MISSING_IN_SNAPSHOT: _("台账有、国扶系统没有的成员"),
    Kind.MEMBER_FIELD: _("成员信息不一致"),
}


@dataclass(frozen=True)
class Difference:
    kind: str
    household_no: str
    division_code: str
    name: str = ""  # head of household, or the member
    member: str = ""  # 人编号 or 证件号码 of the member
    field: str = ""  # field label
    registry: str = ""  # the registry's value
    national: str = ""  # the snapshot's value

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KIND_LABELS, 0))
    shown: list[Difference] = field(default_factory=list)
    households_compared: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_label(self) -> list[tuple[str, str, int]]:
        return [(kind, KIND_LABELS[kind], self.counts[kind]) for kind in KIND_LABELS]


def snapshots_for_user(user: Any) -> QuerySet[NationalSnapshot]:
    """Snapshots of the user's scope, and the unscoped ones (imported by an administrator or on the
    command line): comparing one of those still only reads rows inside the user's scope."""
    prefix = getattr(user, "scope_prefix", None)
    if not getattr(user, "is_authenticated", False) or prefix is None or getattr(user, "is_helper", False):
        return NationalSnapshot.objects.none()
    return NationalSnapshot.objects.filter(Q(division_code__startswith=prefix) | Q(division_code=""))


def get_snapshot(user: Any, pk: int) -> NationalSnapshot | None:
    return snapshots_for_user(user).filter(pk=pk).first()


def latest_snapshot(user: Any) -> NationalSnapshot | None:
    return snapshots_for_user(user).order_by("-snapshot_date", "-id").first()


def _prefix(user: Any, snapshot: NationalSnapshot) -> str:
    """The narrower of the user's scope and the snapshot's: only there do both sides mean the same."""
    user_prefix = getattr(user, "scope_prefix", None) or ""
    snapshot_prefix = ""
    if snapshot.division_code:
        division = Division.objects.filter(code=snapshot.division_code).first()
        snapshot_prefix = division.prefix if division else snapshot.division_code
    return max(user_prefix, snapshot_prefix, key=len)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _by_number() -> Any:
    # The merge compares keys with Python's `<` (code point order); PostgreSQL must sort the same way.
    return Collate("household_no", "C") if connection.vendor == "postgresql" else "household_no"


def _registry_households(user: Any, prefix: str) -> Iterator[dict[str, Any]]:
    qs = Household.objects.in_scope(user).filter(division_code__startswith=prefix).order_by(_by_number())
    yield from qs.values("id", "household_no", "division_code", *HOUSEHOLD_FIELDS).iterator(chunk_size=2000)


def _national_households(snapshot: NationalSnapshot, prefix: str) -> Iterator[NationalHousehold]:
    qs = snapshot.households.filter(division_code__startswith=prefix).order_by(_by_number())
    yield from qs.only("household_no", "division_code", "data").iterator(chunk_size=2000)


def _member_key(member_no: str | None, id_number: str | None) -> str:
    return member_no or f"ID:{id_number or ''}"


def iter_differences(user: Any, snapshot: NationalSnapshot) -> Iterator[Difference]:
    """Every difference between the registry and the snapshot inside the user's scope, by 户编号."""
    prefix = _prefix(user, snapshot)
    registry = _registry_households(user, prefix)
    national = _national_households(snapshot, prefix)
    names = dict(Division.objects.filter(level="village", code__startswith=prefix).values_list("code", "name"))
    pending: list[tuple[dict[str, Any], NationalHousehold]] = []
    reg, nat = next(registry, None), next(national, None)
    while reg is not None or nat is not None:
        if nat is None or (reg is not None and reg["household_no"] < nat.household_no):
            yield Difference(Kind.MISSING_IN_SNAPSHOT, reg["household_no"], reg["division_code"], reg["head_name"])
            reg = next(registry, None)
        elif reg is None or nat.household_no < reg["household_no"]:
            yield Difference(
                Kind.MISSING_IN_REGISTRY, nat.household_no, nat.division_code, nat.data.get("head_name", "")
            )
            nat = next(national, None)
        else:
            yield from _household_fields(reg, nat, names)
            pending.append((reg, nat))
            if len(pending) >= 500:
                yield from _member_differences(pending, snapshot)
                pending = []
            reg, nat = next(registry, None), next(national, None)
    yield from _member_differences(pending, snapshot)


def _household_fields(reg: dict[str, Any], nat: NationalHousehold, names: dict[str, str]) -> Iterator[Difference]:
    base = {"household_no": reg["household_no"], "division_code": reg["division_code"], "name": reg["head_name"]}
    if reg["division_code"] != nat.division_code:
        yield Difference(
            Kind.FIELD,
            field=LABELS["division_code"],
            registry=names.get(reg["division_code"], reg["division_code"]),
            national=names.get(nat.division_code, nat.division_code),
            **base,
        )
    for name in HOUSEHOLD_FIELDS:
        if name not in nat.data:
            continue  # the export had no such column: nothing to compare
        ours, theirs = canonical(reg[name]), nat.data[name]
        if ours != theirs:
            yield Difference(Kind.FIELD, field=LABELS[name], registry=_show(ours), national=_show(theirs), **base)


def _member_differences(
    pairs: list[tuple[dict[str, Any], NationalHousehold]], snapshot: NationalSnapshot
) -> Iterator[Difference]:
    if not pairs:
        return
    by_id = {reg["id"]: reg for reg, _ in pairs}
    numbers = [reg["household_no"] for reg, _ in pairs]
    ours: dict[str, dict[str, dict[str, Any]]] = {}
    for row in Member.objects.filter(household_id__in=by_id).values("household_id", *MEMBER_FIELDS):
        number = by_id[row["household_id"]]["household_no"]
        ours.setdefault(number, {})[_member_key(row["member_no"], row["id_number"])] = row
    theirs: dict[str, dict[str, NationalMember]] = {}
    for member in NationalMember.objects.filter(snapshot=snapshot, household_no__in=numbers).only(
        "household_no", "member_no", "id_number", "data"
    ):
        theirs.setdefault(member.household_no, {})[_member_key(member.member_no, member.id_number)] = member
    for reg, _national in pairs:
        number, code = reg["household_no"], reg["division_code"]
        mine, national = ours.get(number, {}), theirs.get(number, {})
        for key in sorted(mine.keys() | national.keys()):
            label = key.removeprefix("ID:")
            if key not in national:
                yield Difference(Kind.MEMBER_MISSING_IN_SNAPSHOT, number, code, mine[key]["name"], label)
            elif key not in mine:
                yield Difference(
                    Kind.MEMBER_MISSING_IN_REGISTRY, number, code, national[key].data.get("name", ""), label
                )
            else:
                data = national[key].data
                for name in MEMBER_FIELDS:
                    if name not in data or name == "member_no":
                        continue
                    a, b = canonical(mine[key][name]), data[name]
                    if a != b:
                        yield Difference(
                            Kind.MEMBER_FIELD,
                            number,
                            code,
                            mine[key]["name"],
                            label,
                            LABELS[f"member.{name}"],
                            _show(a),
                            _show(b),
                        )


_ID_LABELS = {LABELS["head_id_number"], LABELS["member.id_number"]}
_PHONE_LABELS = {LABELS["phone"], LABELS["member.phone"]}


def masked(d: Difference) -> Difference:
    """The difference as a user without the personal-data permission may see it."""
    changes: dict[str, str] = {}
    if len(d.member) > 10:  # an ID number where the member has no 人编号 (a long 人编号 is masked too)
        changes["member"] = mask_id_number(d.member)
    if d.field in _ID_LABELS:
        changes.update(registry=mask_id_number(d.registry), national=mask_id_number(d.national))
    elif d.field in _PHONE_LABELS:
        changes.update(registry=mask_phone(d.registry), national=mask_phone(d.national))
    return replace(d, **changes) if changes else d


def _visible(user: Any, differences: Iterator[Difference]) -> Iterator[Difference]:
    if user.can(VIEW_PII):
        yield from differences
    else:
        yield from (masked(d) for d in differences)


def summarise(user: Any, snapshot: NationalSnapshot, show: int = 500) -> Summary:
    summary = Summary()
    for difference in _visible(user, iter_differences(user, snapshot)):
        summary.counts[difference.kind] += 1
        if len(summary.shown) < show:
            summary.shown.append(difference)
    return summary


EXPORT_HEADERS = [
    _("差异类型"),
    _("户编号"),
    _("行政区划代码"),
    _("姓名"),
    _("成员（人编号/证件号码）"),
    _("项目"),
    _("台账"),
    _("国扶系统"),
]


def export_differences(user: Any, snapshot: NationalSnapshot, target: Path) -> Path:
    """All differences as an .xlsx, with who exported it and when (exports carry both)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet = workbook.add_worksheet(str(_("差异清单")))
    who = getattr(user, "display_name", "") or getattr(user, "username", "")
    sheet.write_string(
        0,
        0,
        str(_("国扶系统快照（%(date)s）与台账比对 · 导出人：%(who)s · 导出时间：%(when)s"))
        % {"date": f"{snapshot.snapshot_date:%Y-%m-%d}", "who": who, "when": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
    )
    for col, header in enumerate(EXPORT_HEADERS):
        sheet.write_string(1, col, str(header), bold)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 4, 20)
    sheet.set_column(5, 7, 22)
    row = 2
    for d in _visible(user, iter_differences(user, snapshot)):
        for col, value in enumerate(
            [d.kind_label, d.household_no, d.division_code, d.name, d.member, d.field, d.registry, d.national]
        ):
            sheet.write_string(row, col, str(value))
        row += 1
        if row >= 1_048_575:
            break
    workbook.close()
    return target
