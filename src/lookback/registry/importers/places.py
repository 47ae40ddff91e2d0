"""Resolving 县 / 乡镇 / 村 names (or a 行政区划代码) to a village of the division table.

Names are matched as written first, then with their administrative suffix taken off on both sides, so
that `邹湖`, `邹湖村` and `邹湖村委会` all find `邹湖村委会`, `嵩口` finds `嵩口镇`, and `永泰` finds
`永泰县`. The table is small (a few thousand rows), so it is read once per import.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext

from lookback.divisions.models import Division
from lookback.registry.importers.cells import CellError

# Longest first, so `社区居委会` is taken off whole rather than leaving `社区居`.
VILLAGE_SUFFIXES = ("社区居民委员会", "村民委员会", "社区居委会", "居民委员会", "村委会", "居委会", "社区", "村")
TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
COUNTY_SUFFIXES = ("县", "市", "区")


_RURAL = ("村民委员会", "村委会", "村")
_URBAN = ("社区居民委员会", "社区居委会", "居民委员会", "居委会", "社区")


def _family(name: str) -> str:
    """ "rural" for a village committee's name, "urban" for a community's, "" for a bare name."""
    if name.endswith(_URBAN):
        return "urban"
    if name.endswith(_RURAL):
        return "rural"
    return ""


def _fold(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def base_name(name: str, suffixes: tuple[str, ...]) -> str:
    folded = _fold(name)
    for suffix in suffixes:
        if folded.endswith(suffix) and len(folded) > len(suffix):
            return folded[: -len(suffix)]
    return folded


def division_rows() -> list[tuple[int, str, str, str, str | None]]:
    """What a resolver is built from: (pk, code, name, level, parent's code) of every division."""
    return list(Division.objects.values_list("pk", "code", "name", "level", "parent__code").order_by("code"))


@dataclass
class _Node:
    code: str
    name: str
    level: str
    pk: int
    children: dict[str, list[_Node]] = field(default_factory=dict)  # folded or base name → nodes


@dataclass(frozen=True)
class Place:
    village_id: int
    code: str  # the village's 12-digit code


class DivisionResolver:
    """Loaded once per import; answers are cached per (county, township, village) triple."""

    def __init__(self, rows: list[tuple[int, str, str, str, str | None]] | None = None) -> None:
        self.by_code: dict[str, _Node] = {}
        counties: dict[str, list[_Node]] = {}
        if rows is None:
            rows = division_rows()
        nodes = {code: _Node(code=code, name=name, level=level, pk=pk) for pk, code, name, level, _ in rows}
        suffixes = {"county": COUNTY_SUFFIXES, "township": TOWNSHIP_SUFFIXES, "village": VILLAGE_SUFFIXES}
        for _pk, code, name, level, parent_code in rows:
            node = nodes[code]
            self.by_code[code] = node
            if level not in suffixes:
                continue
            keys = {_fold(name), base_name(name, suffixes[level])}
            if level == "county":
                for key in keys:
                    counties.setdefault(key, []).append(node)
            elif parent_code in nodes:
                parent = nodes[parent_code]
                for key in keys:
                    parent.children.setdefault(key, []).append(node)
        self.counties = counties
        self._cache: dict[tuple[str, str, str], Place | CellError | tuple[str, CellError]] = {}

    def by_division_code(self, code: str) -> Place:
        node = self.by_code.get(code)
        if node is None:
            raise CellError(gettext("行政区划代码不在区划表中"))
        if node.level != "village":
            raise CellError(gettext("行政区划代码不是村级（12位村级代码）"))
        return Place(village_id=node.pk, code=node.code)

    def resolve(self, county: str, township: str, village: str) -> Place:
        """The village; raises `CellError` whose `column` attribute names the column at fault."""
        key = (county, township, village)
        hit = self._cache.get(key)
        if hit is None:
            try:
                hit = self._resolve(county, township, village)
            except _PlaceError as exc:
                hit = exc
            self._cache[key] = hit
        if isinstance(hit, _PlaceError):
            raise hit
        return hit

    def _resolve(self, county: str, township: str, village: str) -> Place:
        county_node = self._pick(
            self.counties, county, COUNTY_SUFFIXES, "县", lambda: gettext("区划表中没有这个县（市、区）")
        )
        township_node = self._pick(
            county_node.children,
            township,
            TOWNSHIP_SUFFIXES,
            "乡镇",
            lambda: gettext("%(county)s没有这个乡（镇）") % {"county": county_node.name},
        )
        village_node = self._pick(
            township_node.children,
            village,
            VILLAGE_SUFFIXES,
            "行政村",
            lambda: gettext("%(township)s没有这个村") % {"township": township_node.name},
        )
        return Place(village_id=village_node.pk, code=village_node.code)

    @staticmethod
    def _pick(
        options: dict[str, list[_Node]],
        name: str,
        suffixes: tuple[str, ...],
        column: str,
        missing: Callable[[], str],  # the message, translated only when it is needed
    ) -> _Node:
        if not name:
            raise _PlaceError(column, gettext("为空（或填写行政区划代码）"))
        exact = options.get(_fold(name), [])
        found = exact if len(exact) == 1 else options.get(base_name(name, suffixes), [])
        unique = {n.code: n for n in found}
        if not unique:
            raise _PlaceError(column, missing())
        if len(unique) > 1 and column == "行政村":
            # 亭头村 means 亭头村委会, not 亭头社区: a suffix written tells the village committee from the community.
            family = _family(_fold(name))
            if family:
                same = {code: n for code, n in unique.items() if _family(n.name) == family}
                unique = same or unique
        if len(unique) > 1:
            raise _PlaceError(
                column,
                gettext("名称不唯一（%(names)s），请写全称或填写行政区划代码")
                % {"names": "、".join(n.name for n in unique.values())},
            )
        return next(iter(unique.values()))


class _PlaceError(CellError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
