"""Writing the demo: the data set (built once, then left alone) and the demo users (kept in shape every run)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connections, models, router, transaction
from django.db.models import Count
from django.utils import timezone

from lookback.accounts.models import User
from lookback.accounts.roles import Role
from lookback.campaigns.models import Campaign
from lookback.core.text import pinyin_initials
from lookback.demo.generator import (
    CITY_CODE,
    COUNTY_SHARES,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    SNAPSHOT_DATE,
    DemoData,
    Generator,
)
from lookback.demo.models import DemoBuild
from lookback.divisions.models import Division
from lookback.registry.models import (
    ArchiveCheck,
    Assignment,
    DeptListEntry,
    Helper,
    Household,
    ImportBatch,
    Measure,
    Member,
    NationalHousehold,
    NationalMember,
    NationalSnapshot,
    Visit,
)
from lookback.registry.selectors import required_archive_items

DEMO_PASSWORD = "lookback-demo"
DEFAULT_SEED = 20181122  # the date of 榕扶办〔2018〕80号
DEFAULT_HOUSEHOLDS = 5000
SONGKOU = "350125101000"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    scope_code: str | None
    title: str


# demo-village's scope is found after the build: the 嵩口镇 village with the most households.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("demo-city", Role.CITY, "350100000000", "福州市扶贫办"),
    DemoUser("demo-county", Role.COUNTY, "350125000000", "永泰县扶贫办"),
    DemoUser("demo-township", Role.TOWNSHIP, SONGKOU, "嵩口镇扶贫专干"),
    DemoUser("demo-village", Role.VILLAGE, None, "驻村工作队"),
    DemoUser("demo-helper", Role.HELPER, SONGKOU, "帮扶责任人"),
    DemoUser("demo-reviewer", Role.REVIEWER, "350125000000", "永泰县复核组"),
    DemoUser("demo-supervisor", Role.SUPERVISOR, "350100000000", "福州市纪检督查"),
    DemoUser("admin", Role.ADMIN, None, "系统管理员"),
)


def current_build() -> DemoBuild | None:
    return DemoBuild.objects.order_by("id").first()


def build_demo_data(
    *, seed: int = DEFAULT_SEED, households: int = DEFAULT_HOUSEHOLDS, log: Callable[[str], None] | None = None
) -> tuple[DemoBuild, bool]:
    """The demo data set; built only when none exists yet. Returns (build, whether it was built now)."""
    existing = current_build()
    if existing is not None:
        return existing, False
    say = log or (lambda message: None)
    started = time.perf_counter()
    campaign = Campaign.default()
    lines: dict[int, Decimal] = {line.year: line.amount for line in campaign.poverty_lines.all()} if campaign else {}
    villages = list(
        Division.objects.filter(level=Division.Level.VILLAGE)
        .filter(_any_prefix(COUNTY_SHARES))
        .select_related("parent", "parent__parent")
        .order_by("code")
    )
    generator = Generator(
        seed=seed,
        households=households,
        villages=villages,
        poverty_lines=lines,
        visit_start=campaign.visit_start if campaign else date(2018, 12, 1),
        visit_end=campaign.visit_end if campaign else date(2018, 12, 31),
        # The same defaults as the rules that read these campaign parameters.
        dibao_standard=float(campaign.parameter("dibao_standard", 7200)) if campaign else 7200,
        checkins_required=int(campaign.parameter("checkins_required", 4)) if campaign else 4,
        archive_items=required_archive_items(campaign),
    )
    data = generator.generate()
    generated = time.perf_counter()
    say(f"生成 {len(data.households)} 户：{generated - started:.1f} 秒")
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            file_name=f"lookback demo --seed {seed} --households {households}",
            kind="demo",
            status=ImportBatch.Status.STORED,
            division_code=CITY_CODE,
            progress=100,
        )
        counts = _store(data, batch, say)
        batch.rows_new = counts["households"] + counts["members"]
        batch.save(update_fields=["rows_new"])
        manifest: dict[str, Any] = dict(data.manifest)
        manifest["helpers"] = [h.id_number for h in data.helpers]
        manifest["demo_helper"] = data.demo_helper.id_number if data.demo_helper else ""
        build = DemoBuild.objects.create(
            seed=seed,
            households=households,
            batch=batch,
            seconds=round(time.perf_counter() - started, 2),
            counts=counts,
            manifest=manifest,
        )
    say(f"写入数据库：{time.perf_counter() - generated:.1f} 秒")
    return build, True


def _any_prefix(prefixes: Iterable[str]) -> models.Q:
    condition = models.Q()
    for prefix in prefixes:
        condition |= models.Q(code__startswith=prefix)
    return condition


def _batches(items: list[Any], size: int = 5000) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Column types whose Python values the database drivers take as they are; every other column (decimals,
# dates, JSON …) goes through its Django field's get_db_prep_save.
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT plain dicts (keyed by field attname) with one prepared statement run by executemany.

    Why not bulk_create: for ~250,000 rows most of its time goes into building model instances and
    compiling one multi-row statement per 28 rows (SQLite's 999-parameter limit). This is several times
    faster, on SQLite and PostgreSQL alike, and still prepares every non-plain value with its Django
    field. Missing keys get the field's default (auto_now fields: now) and are filled into the dicts,
    so that history rows can copy them. Primary keys are not returned; callers look them up by the
    rows' natural keys.
    """
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {
        f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        for f in fields
    }
    prepare = [
        None if isinstance(f, _PLAIN_FIELDS) else (lambda value, f=f: f.get_db_prep_save(value, connection))
        for f in fields
    ]
    names = [f.attname for f in fields]
    columns = list(zip(names, prepare, strict=True))
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        for chunk in _batches(rows):
            values = []
            for row in chunk:
                for name in names:
                    if name not in row:
                        row[name] = defaults[name]
                values.append(tuple(row[name] if prep is None else prep(row[name]) for name, prep in columns))
            cursor.executemany(sql, values)


def _history(model: type[models.Model], rows: list[dict[str, Any]], pks: list[int]) -> None:
    """Each inserted row's "+" history entry, as simple_history's bulk_create_with_history writes it."""
    now = timezone.now()
    tracked = [f.attname for f in model.history.model.tracked_fields if f.attname != "id"]
    _insert(
        model.history.model,
        [
            {
                "id": pk,
                "history_date": now,
                "history_user_id": None,
                "history_change_reason": "演示数据",
                "history_type": "+",
                **{name: row[name] for name in tracked},
            }
            for row, pk in zip(rows, pks, strict=True)
        ],
    )


def _store(data: DemoData, batch: ImportBatch, say: Callable[[str], None]) -> dict[str, int]:
    t = time.perf_counter()
    households = [
        {
            **{name: getattr(hh, name) for name in HOUSEHOLD_FIELDS},
            "village_id": hh.village.pk,
            "head_name_initials": pinyin_initials(hh.head_name),
            "batch_id": batch.pk,
        }
        for hh in data.households
    ]
    _insert(Household, households)
    household_pk = dict(Household.objects.filter(batch=batch).values_list("household_no", "pk"))
    _history(Household, households, [household_pk[row["household_no"]] for row in households])
    members = [
        {
            **{name: getattr(m, name) for name in MEMBER_FIELDS},
            "household_id": household_pk[hh.household_no],
            "name_initials": pinyin_initials(m.name),
            "batch_id": batch.pk,
        }
        for hh in data.households
        for m in hh.members
    ]
    _insert(Member, members)
    member_pk = dict(Member.objects.filter(batch=batch).values_list("member_no", "pk"))
    _history(Member, members, [member_pk[row["member_no"]] for row in members])
    say(f"  户和成员：{time.perf_counter() - t:.1f} 秒")

    t = time.perf_counter()
    helpers = [
        {"name": h.name, "id_number": h.id_number, "work_unit": h.work_unit, "position": h.position, "phone": h.phone}
        for h in data.helpers
    ]
    _insert(Helper, helpers)
    helper_pk = dict(
        Helper.objects.filter(id_number__in=[h.id_number for h in data.helpers]).values_list("id_number", "pk")
    )
    _history(Helper, helpers, [helper_pk[row["id_number"]] for row in helpers])
    assignments = [
        {
            "helper_id": helper_pk[helper.id_number],
            "household_id": household_pk[hh.household_no],
            "is_first": is_first,
            "batch_id": batch.pk,
        }
        for hh in data.households
        for helper, is_first in hh.assignments
    ]
    _insert(Assignment, assignments)
    assignment_pk = {
        (helper_id, household_id): pk
        for pk, helper_id, household_id in Assignment.objects.filter(batch=batch).values_list(
            "pk", "helper_id", "household_id"
        )
    }
    _history(Assignment, assignments, [assignment_pk[(row["helper_id"], row["household_id"])] for row in assignments])
    # Measures, visits, archive checks and list entries start their history with their first change: their "+" rows
    # would add a third to the build time and nothing shows them.
    measures = [
        {
            "household_id": household_pk[hh.household_no],
            "measure_type": m.measure_type,
            "content": m.content,
            "project_no": m.project_no,
            "amount": m.amount,
            "responsible_person": m.responsible_person,
            "start_date": m.start_date,
            "end_date": m.end_date,
            "status": m.status,
            "batch_id": batch.pk,
        }
        for hh in data.households
        for m in hh.measures
    ]
    _insert(Measure, measures)
    visits = [
        {
            "household_id": household_pk[hh.household_no],
            "helper_id": helper_pk[v.helper.id_number] if v.helper is not None else None,
            "helper_name": v.helper_name,
            "visited_at": v.visited_at,
            "visit_type": v.visit_type,
            "longitude": v.longitude,
            "latitude": v.latitude,
            "content": v.content,
            "poverty_handbook_filled": v.poverty_handbook_filled,
            "assignment_handbook_filled": v.assignment_handbook_filled,
            "needs": v.needs,
            "knows_helper": v.knows_helper,
            "satisfaction": v.satisfaction,
            "batch_id": batch.pk,
        }
        for hh in data.households
        for v in hh.visits
    ]
    _insert(Visit, visits)
    archive_checks = [
        {
            "household_id": household_pk[hh.household_no],
            "checked_on": c.checked_on,
            "checker_name": c.checker_name,
            "present_items": c.present_items,
            "note": c.note,
        }
        for hh in data.households
        for c in hh.archive_checks
    ]
    _insert(ArchiveCheck, archive_checks)
    say(f"  帮扶责任人、措施、走访、一户一档核查：{time.perf_counter() - t:.1f} 秒")

    t = time.perf_counter()
    entries = [
        {
            "kind": e.kind,
            "id_number": e.id_number,
            "name": e.name,
            "category": e.category,
            "status": e.status,
            "amount": e.amount,
            "start_date": e.start_date,
            "end_date": e.end_date,
            "year": e.year,
            "attributes": e.attributes,
            "division_code": e.division_code,
            "batch_id": batch.pk,
        }
        for e in data.lists
    ]
    _insert(DeptListEntry, entries)
    snapshot = NationalSnapshot.objects.create(snapshot_date=SNAPSHOT_DATE, batch=batch, division_code=CITY_CODE)
    _insert(NationalHousehold, [{"snapshot_id": snapshot.pk, **row} for row in data.national_households])
    _insert(NationalMember, [{"snapshot_id": snapshot.pk, **row} for row in data.national_members])
    say(f"  部门名单、国扶快照：{time.perf_counter() - t:.1f} 秒")
    return {
        "households": len(households),
        "members": len(members),
        "helpers": len(helpers),
        "assignments": len(assignments),
        "measures": len(measures),
        "visits": len(visits),
        "archive_checks": len(archive_checks),
        "dept_list_entries": len(entries),
        "national_households": len(data.national_households),
        "national_members": len(data.national_members),
    }


def demo_village(build: DemoBuild) -> Division | None:
    """The 嵩口镇 village with the most demo households (ties: the lower code)."""
    row = (
        Household.objects.filter(batch_id=build.batch_id, division_code__startswith=SONGKOU[:9])
        .values("division_code")
        .annotate(n=Count("id"))
        .order_by("-n", "division_code")
        .first()
    )
    return Division.objects.filter(code=row["division_code"]).first() if row else None


@transaction.atomic
def ensure_demo_users(build: DemoBuild) -> list[tuple[User, DemoUser]]:
    """The demo users with their roles, scopes and the demo password, whatever state they were left in."""
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    village = demo_village(build)
    result = []
    for spec in DEMO_USERS:
        scope_code = spec.scope_code
        if spec.username == "demo-village":
            scope_code = village.code if village else SONGKOU
        scope = Division.objects.get(code=scope_code) if scope_code else None
        is_admin = spec.role == Role.ADMIN
        user, _ = User.objects.update_or_create(
            username=spec.username,
            defaults={
                "role": spec.role,
                "scope": scope,
                "is_staff": is_admin,
                "is_superuser": is_admin,
                "is_active": True,
                "unit": spec.title,
                "last_name": spec.title,
                "password": password,
            },
        )
        result.append((user, spec))
    helper_user = next(user for user, spec in result if spec.username == "demo-helper")
    helper = Helper.objects.filter(id_number=build.manifest.get("demo_helper") or None).first()
    if helper is not None:
        # One registry helper per login: a stale link from an earlier database state is moved, not doubled.
        Helper.objects.filter(user=helper_user).exclude(pk=helper.pk).update(user=None)
        if helper.user_id != helper_user.pk:
            helper.user = helper_user
            helper.save(update_fields=["user", "updated_at"])
        helper_user.last_name, helper_user.unit, helper_user.phone = helper.name, helper.work_unit, helper.phone
        helper_user.save(update_fields=["last_name", "unit", "phone"])
    return result
