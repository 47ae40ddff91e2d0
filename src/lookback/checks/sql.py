"""The context a rule query is built in: the campaign, "as of" values, bound parameters and the few
SQL fragments whose spelling differs between SQLite and PostgreSQL.

Rules are plain SQL so that they run inside the database, set-based, over a million rows. Everything
that is not portable goes through a method here (regular expressions, string aggregation, JSON), and
everything portable is written once: `||`, CASE, COALESCE, SUBSTR, LENGTH, CAST, EXISTS, GROUP BY.

Two traps this module exists to avoid:
- PostgreSQL does not promise to evaluate `a AND b` left to right, so a CAST guarded by AND can
  still fail on bad data; casts are guarded with CASE instead.
- A bound parameter's type is not always inferred the same way; numbers are written as validated
  literals, everything else is bound by name (`%(p3)s`), so fragments can be assembled in any order.
  Queries always run with a parameter dict, so a literal percent sign is written `%%`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from lookback.campaigns.models import Campaign
from lookback.core import codes
from lookback.registry import models as registry

# Table names, for the f-strings of the rule queries.
HOUSEHOLD = registry.Household._meta.db_table
MEMBER = registry.Member._meta.db_table
HELPER = registry.Helper._meta.db_table
ASSIGNMENT = registry.Assignment._meta.db_table
MEASURE = registry.Measure._meta.db_table
VISIT = registry.Visit._meta.db_table
DEPT = registry.DeptListEntry._meta.db_table
NATIONAL_HOUSEHOLD = registry.NationalHousehold._meta.db_table
NATIONAL_MEMBER = registry.NationalMember._meta.db_table


# A typed NULL: PostgreSQL types a bare NULL in a sub-select as text, which an id column refuses.
NULL_ID = "CAST(NULL AS BIGINT)"


class Ctx:
    """One rule run's context. `p(value)` binds a value and returns its placeholder."""

    def __init__(self, campaign: Campaign, *, vendor: str | None = None, snapshot_id: int | None = None) -> None:
        self.campaign = campaign
        self.vendor = vendor or connection.vendor
        self.ref: datetime.date = campaign.reference_date
        self.ref_int = int(self.ref.strftime("%Y%m%d"))
        self.snapshot_id = snapshot_id
        self.params: dict[str, Any] = {}
        self._lines = sorted((line.year, line.amount) for line in campaign.poverty_lines.all())

    # --- parameters -------------------------------------------------------------------------------

    def p(self, value: Any) -> str:
        if isinstance(value, datetime.datetime):
            value = connection.ops.adapt_datetimefield_value(value)
        elif isinstance(value, datetime.date):
            value = connection.ops.adapt_datefield_value(value)
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def plist(self, values: Any) -> str:
        """`(%(p1)s, %(p2)s)` for an IN list; `(NULL)` for an empty one, which matches nothing."""
        values = list(values)
        if not values:
            return "(NULL)"
        return "(" + ", ".join(self.p(v) for v in values) + ")"

    def setting(self, name: str, default: Any) -> Any:
        """A campaign parameter, falling back to the rule's declared default."""
        return (self.campaign.parameters or {}).get(name, default)

    @staticmethod
    def num(value: Any) -> str:
        """A validated numeric literal (never user text in the SQL)."""
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"not a number: {value!r}")
        return format(number, "f")

    def day_start(self, day: datetime.date) -> str:
        """The start of a local calendar day, bound as a datetime (visits are stored in UTC)."""
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return self.p(moment)

    def ref_end(self) -> str:
        """The first moment after the reference date: "as of" for datetimes is `< ref_end()`."""
        return self.day_start(self.ref + datetime.timedelta(days=1))

    # --- portable fragments -----------------------------------------------------------------------

    def digits(self, expr: str) -> str:
        """True when `expr` is a non-empty string of ASCII digits."""
        if self.vendor == "postgresql":
            return f"({expr} ~ '^[0-9]+$')"
        return f"({expr} <> '' AND {expr} NOT GLOB '*[^0-9]*')"

    def agg(self, expr: str, distinct: bool = False, sep: str = ",") -> str:
        """Joined values of a group (order stable for unchanged data). SQLite's DISTINCT form joins with ","."""
        if self.vendor == "postgresql":
            return f"STRING_AGG({'DISTINCT ' if distinct else ''}{expr}, '{sep}' ORDER BY {expr})"
        if distinct:
            return f"GROUP_CONCAT(DISTINCT {expr})"
        return f"GROUP_CONCAT({expr}, '{sep}')"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def int_text(self, expr: str, empty: str = "—") -> str:
        """A number shown rounded to an integer, or `empty` when NULL."""
        return f"COALESCE(CAST(CAST(ROUND({expr}) AS INTEGER) AS TEXT), '{empty}')"

    def decimal_text(self, expr: str, empty: str = "—") -> str:
        """A number shown with one decimal, or `empty` when NULL."""
        return f"COALESCE(CAST(ROUND(CAST({expr} AS NUMERIC), 1) AS TEXT), '{empty}')"

    def json_has_value(self, column: str, value: str) -> str:
        """A JSON array column contains `value`."""
        if self.vendor == "postgresql":
            return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({column}) AS j(v) WHERE j.v = {self.p(value)})"
        return (
            f"(json_valid({column}) AND json_type({column}) = 'array' AND "
            f"EXISTS (SELECT 1 FROM json_each({column}) AS j WHERE j.value = {self.p(value)}))"
        )

    def json_has_key(self, column: str, key: str) -> str:
        if self.vendor == "postgresql":
            return f"jsonb_exists({column}, {self.p(key)})"
        return f"(json_type({column}, {self.p(self._path(key))}) IS NOT NULL)"

    def json_text(self, column: str, key: str) -> str:
        """A JSON object member as text ('' for null); numbers and booleans as their JSON spelling."""
        if self.vendor == "postgresql":
            return f"COALESCE({column} ->> {self.p(key)}, '')"
        path = self.p(self._path(key))
        return (
            f"(CASE json_type({column}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"WHEN 'null' THEN '' ELSE COALESCE(CAST(json_extract({column}, {path}) AS TEXT), '') END)"
        )

    def json_num(self, column: str, key: str) -> str:
        """A JSON object member as a number, NULL when absent, empty or not numeric."""
        if self.vendor == "postgresql":
            value = f"({column} ->> {self.p(key)})"
            return f"(CASE WHEN {value} ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$' THEN CAST({value} AS NUMERIC) END)"
        path = self.p(self._path(key))
        return (
            f"(CASE WHEN json_type({column}, {path}) IN ('integer', 'real') THEN json_extract({column}, {path}) "
            f"WHEN json_type({column}, {path}) = 'text' AND TRIM(json_extract({column}, {path})) <> '' "
            f"THEN CAST(json_extract({column}, {path}) AS REAL) END)"
        )

    def json_members(self, column: str, alias: str) -> str:
        """A FROM-list item: the members of the JSON object in `column` as rows `alias.key`, parsed once
        per row (per-key extraction would parse the document again for every key on SQLite)."""
        if self.vendor == "postgresql":
            return f"jsonb_each_text({column}) AS {alias}(key, value)"
        return f"json_each({column}) AS {alias}"

    def json_member_text(self, alias: str) -> str:
        """The value of a `json_members` row as text, spelled like `json_text` spells it."""
        if self.vendor == "postgresql":
            return f"COALESCE({alias}.value, '')"
        return (
            f"(CASE {alias}.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN '' "
            f"ELSE COALESCE(CAST({alias}.value AS TEXT), '') END)"
        )

    def text_number(self, expr: str) -> str:
        """A text holding a decimal number, as a number; NULL when it does not hold one."""
        if self.vendor == "postgresql":
            return f"(CASE WHEN {expr} ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$' THEN CAST({expr} AS NUMERIC) END)"
        return f"(CASE WHEN TRIM({expr}) <> '' THEN CAST({expr} AS REAL) END)"

    def bool_text(self, expr: str) -> str:
        """A nullable boolean column spelled like `json_text` spells JSON booleans."""
        return f"(CASE WHEN {expr} IS NULL THEN '' WHEN {expr} THEN 'true' ELSE 'false' END)"

    @staticmethod
    def _path(key: str) -> str:
        return '$."' + key.replace('"', "") + '"'

    # --- the domain's recurring expressions -------------------------------------------------------

    def birth8(self, id_col: str) -> str:
        """YYYYMMDD from an 18- or 15-character ID number, else NULL."""
        return (
            f"(CASE WHEN LENGTH({id_col}) = 18 THEN SUBSTR({id_col}, 7, 8) "
            f"WHEN LENGTH({id_col}) = 15 THEN '19' || SUBSTR({id_col}, 7, 6) END)"
        )

    def age(self, id_col: str) -> str:
        """Whole years of age at the reference date, from the ID number's birth date; NULL if unreadable."""
        birth = self.birth8(id_col)
        return f"(CASE WHEN {self.digits(birth)} THEN ({self.ref_int} - CAST({birth} AS INTEGER)) / 10000 END)"

    def age_between(self, id_col: str, low: int, high: int) -> str:
        return f"({self.age(id_col)} BETWEEN {int(low)} AND {int(high)})"

    def exited(self, h: str) -> str:
        return f"{h}.exit_status IN {self.plist(codes.EXITED_STATUSES)}"

    @staticmethod
    def mod(a: str, b: str) -> str:
        return f"(({a}) %% ({b}))"

    @staticmethod
    def active(m: str) -> str:
        """A member still counted in the household (人员状态 正常 or empty)."""
        return f"COALESCE({m}.status, '') IN ('正常', '')"

    @staticmethod
    def student(m: str) -> str:
        return f"COALESCE({m}.school_status, '') NOT IN ('', '非在校生')"

    @staticmethod
    def working(m: str) -> str:
        return f"COALESCE({m}.work_status, '') <> ''"

    def has_health(self, m: str, value: str) -> str:
        """健康状况 holds `value` among its comma-joined values."""
        return f"(',' || COALESCE({m}.health, '') || ',') LIKE {self.p('%,' + value + ',%')}"

    def on_list(self, kind: str, id_expr: str, extra: str = "") -> str:
        """The person with this ID number is on a department list of `kind`."""
        more = f" AND {extra}" if extra else ""
        return f"EXISTS (SELECT 1 FROM {DEPT} dl WHERE dl.kind = {self.p(kind)} AND dl.id_number = {id_expr}{more})"

    def list_rows(self, kind: str, columns: str = "id_number") -> str:
        """A department list of `kind` as a FROM item, for a join or NOT EXISTS against most members.
        On PostgreSQL the list is read whole and hashed (OFFSET 0 keeps the planner from probing the
        list's index once per member: 660,000 probes took 4 s at 300,000 households); SQLite flattens
        it and uses the index as before."""
        fence = " OFFSET 0" if self.vendor == "postgresql" else ""
        return f"(SELECT {columns} FROM {DEPT} WHERE kind = {self.p(kind)}{fence})"

    def poverty_line(self, h: str) -> str:
        """The campaign's poverty line for the household's exit year (latest line not after it)."""
        if not self._lines:
            return "NULL"
        latest = self.num(self._lines[-1][1])
        branches = " ".join(
            f"WHEN {h}.exit_year >= {int(year)} THEN {self.num(amount)}" for year, amount in reversed(self._lines)
        )
        return f"(CASE WHEN {h}.exit_year IS NULL THEN {latest} {branches} ELSE {self.num(self._lines[0][1])} END)"

    def member_subject(self, m: str = "m", h: str = "h") -> str:
        """The standard subject columns for a member rule (to which the rule adds `detail`)."""
        return (
            f"{self.text(m + '.id')} AS subject_key, {m}.household_id AS household_id, {m}.id AS member_id, "
            f"{h}.household_no AS household_no, {h}.division_code AS division_code"
        )

    def household_subject(self, h: str = "h") -> str:
        return (
            f"{self.text(h + '.id')} AS subject_key, {h}.id AS household_id, {NULL_ID} AS member_id, "
            f"{h}.household_no AS household_no, {h}.division_code AS division_code"
        )

    def member_name(self, m: str = "m") -> str:
        return f"COALESCE({m}.name, '') || '（' || COALESCE({m}.relation, '') || '）'"
