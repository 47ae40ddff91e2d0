"""A synthetic registry for the rule benchmark, written straight into the database.

Households, members, helpers, assignments, measures, visits, department lists and a national
snapshot, with a few percent of deliberate problems of every kind, generated in batches and stored
with `executemany` (SQLite) or `COPY` (PostgreSQL). No model instances, no history rows: this is
about the rules' cost, not the importer's. Deterministic for a given seed.

Loading a million rows into indexed tables inserts into every index at random places, which grows
slower as the indexes outgrow the cache (on PostgreSQL, 128 MB of shared buffers by default, this
made 300,000 households take 15 minutes). So the registry tables' secondary indexes are dropped for
the load and built again at the end, in one sorted pass each; on PostgreSQL the foreign-key triggers
are also off during the load (`session_replication_role = replica`, when the role may set it: the
generator writes only ids it has written before).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from lookback.campaigns.models import Campaign
from lookback.checks.rules.substance import DEFAULT_CAUSE_MEASURES
from lookback.divisions.models import Division
from lookback.registry import models as reg

CAUSES = list(DEFAULT_CAUSE_MEASURES)
ALL_MEASURES = sorted({m for ms in DEFAULT_CAUSE_MEASURES.values() for m in ms} | {"产业扶持", "就业帮扶"})
LINES = {2014: 2800, 2015: 2855, 2016: 2952, 2017: 2952, 2018: 2995}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
GIVEN = "建华秀英明伟芳丽军强敏静磊洋艳勇杰娟涛超霞平刚桂英"
GRADES = {6: "小学", 7: "小学", 8: "小学", 9: "小学", 10: "小学", 11: "小学", 12: "七年级", 13: "八年级", 14: "九年级"}
NOW = timezone.now()


ORDER = [
    reg.Helper,
    reg.NationalSnapshot,
    reg.Household,
    reg.Member,
    reg.Assignment,
    reg.Measure,
    reg.Visit,
    reg.DeptListEntry,
    reg.NationalHousehold,
    reg.NationalMember,
]


JSON_COLUMNS = {"data", "extra", "attributes", "other_causes"}
REGISTRY_TABLES = [model._meta.db_table for model in ORDER]


class Writer:
    """Buffers rows per table and writes them in batches."""

    def __init__(self) -> None:
        self.sqlite = connection.vendor == "sqlite"
        self.convert: dict[Any, list[int]] = {}
        self.buffers: dict[Any, list[tuple]] = {}
        self.columns: dict[Any, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.now = _value(NOW, self.sqlite)

    def add(self, model: Any, row: dict[str, Any]) -> None:
        columns = self.columns.get(model)
        if columns is None:
            columns = self.columns[model] = list(row)
            # only the columns that need it are converted (JSON, and datetimes for SQLite)
            self.convert[model] = [
                i for i, c in enumerate(columns) if isinstance(row[c], (dict, list, dt.datetime)) or c in JSON_COLUMNS
            ]
        values = [row[c] for c in columns]
        for i in self.convert[model]:
            value = values[i]
            # Most converted values are the same few constants (NOW, {}, []): converted once.
            if value is NOW:
                values[i] = self.now
            elif not value and isinstance(value, (dict, list)):
                values[i] = "{}" if isinstance(value, dict) else "[]"
            else:
                values[i] = _value(value, self.sqlite)
        self.buffers.setdefault(model, []).append(tuple(values))

    def flush(self) -> None:
        """Every buffer, parents before children (foreign keys are checked at once), in one transaction."""
        with transaction.atomic():
            self._flush()

    def _flush(self) -> None:
        for m in sorted(self.buffers, key=ORDER.index):
            rows = self.buffers.get(m) or []
            if rows:
                _write(m._meta.db_table, self.columns[m], rows)
                self.counts[m.__name__] = self.counts.get(m.__name__, 0) + len(rows)
                rows.clear()


def _value(value: Any, sqlite: bool) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if sqlite and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return value


def _write(table: str, columns: list[str], rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(columns)
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                rows,
            )


class IdNumbers:
    """Unique valid ID numbers, with the odd deliberately broken one."""

    def __init__(self, rng: random.Random, regions: list[str]) -> None:
        self.rng, self.regions, self.used = rng, regions, set()

    def make(self, born: dt.date, male: bool) -> str:
        for _ in range(50):
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{self.rng.choice(self.regions)}{born:%Y%m%d}{seq:03d}"
            if body not in self.used:
                self.used.add(body)
                return body + ric.calc_check_digit(body + "0")
        raise RuntimeError("ran out of ID numbers")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def _born(rng: random.Random, low: int, high: int) -> dt.date:
    return dt.date(2018, 12, 31) - dt.timedelta(days=rng.randint(low * 365 + 1, high * 365 + 300))


def _drop_indexes() -> list[str]:
    """Drop the registry tables' secondary indexes (not those of primary keys or unique constraints);
    returns the statements that build them again."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes i
                WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
                [REGISTRY_TABLES],
            )
        else:
            marks = ", ".join(["%s"] * len(REGISTRY_TABLES))
            cursor.execute(
                f"""SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                AND tbl_name IN ({marks})""",
                REGISTRY_TABLES,
            )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in indexes]


def _foreign_key_triggers(enabled: bool) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET session_replication_role = {'DEFAULT' if enabled else 'replica'}")
    except DatabaseError:
        pass  # not a superuser: the triggers stay on, the load is only slower


def generate(households: int, seed: int = 2018) -> dict[str, int]:
    """Write the data set; returns rows written per model."""
    rebuild = _drop_indexes()
    _foreign_key_triggers(False)
    try:
        counts = _generate(households, seed)
    finally:
        _foreign_key_triggers(True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '256MB'")
        for sql in rebuild:
            cursor.execute(sql)
        # VACUUM too on PostgreSQL, as autovacuum would after such a load: the visibility map lets
        # index-only scans (a rule's GROUP BY id_number, say) skip the table.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return counts


def _generate(households: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    villages = list(Division.objects.filter(level="village").values_list("id", "code"))
    regions = sorted({code[:6] for _, code in villages})
    ids = IdNumbers(rng, regions)
    w = Writer()
    Campaign.objects.filter(code="fz2018").update(reference_date=dt.date(2018, 12, 31))
    helper_count = max(1, households // 4)
    helper_ids = []
    for hid in range(1, helper_count + 1):
        male = rng.random() < 0.6
        w.add(
            reg.Helper,
            {
                "id": hid,
                "created_at": NOW,
                "updated_at": NOW,
                "name": _name(rng),
                "id_number": ids.make(_born(rng, 25, 55), male),
                "work_unit": rng.choice(["县农业农村局", "县教育局", "镇政府", "县卫健局", "县人社局"]),
                "position": "干部",
                "phone": f"137{hid:08d}",
                "user_id": None,
            },
        )
        helper_ids.append(hid)
    member_id = measure_id = visit_id = assignment_id = dept_id = 0
    dept_seen: set[tuple[str, str]] = set()
    snapshot_id = 1
    w.add(
        reg.NationalSnapshot,
        {
            "id": snapshot_id,
            "snapshot_date": dt.date(2018, 11, 30),
            "created_at": NOW,
            "batch_id": None,
            "division_code": "",
        },
    )
    w.flush()
    national_id = national_member_id = 0

    def dept(kind: str, id_number: str, name: str, division: str, **extra: Any) -> None:
        nonlocal dept_id
        if (kind, id_number) in dept_seen:
            return
        dept_seen.add((kind, id_number))
        dept_id += 1
        row = {
            "id": dept_id,
            "created_at": NOW,
            "updated_at": NOW,
            "kind": kind,
            "id_number": id_number,
            "name": name,
            "category": "",
            "status": "",
            "amount": None,
            "start_date": None,
            "end_date": None,
            "year": None,
            "attributes": {},
            "division_code": division,
            "batch_id": None,
        }
        row.update(extra)
        w.add(reg.DeptListEntry, row)

    for hid in range(1, households + 1):
        if hid % 5000 == 0:
            w.flush()
        village_id, division = rng.choice(villages)
        exit_year = rng.choice([2015, 2016, 2016, 2017, 2017, 2018])
        line = LINES[exit_year]
        cause = rng.choice(CAUSES)
        roll = rng.random()
        income = round(rng.uniform(line * 1.25, line * 4), 2)
        if roll < 0.02:
            income = round(rng.uniform(line * 0.5, line * 0.99), 2)
        elif roll < 0.05:
            income = round(rng.uniform(line, line * 1.09), 2)
        attribute = rng.choices(["一般脱贫户", "低保脱贫户", "特困供养脱贫户"], [0.8, 0.17, 0.03])[0]
        dibao = attribute == "低保脱贫户"
        size = rng.choices([1, 2, 3, 4, 5, 6], [0.12, 0.2, 0.25, 0.22, 0.13, 0.08])[0]
        relocated = rng.random() < 0.05
        grade = rng.choices(["A级", "B级", "C级", "D级", ""], [0.5, 0.44, 0.03, 0.01, 0.02])[0]
        members = []
        head_male = rng.random() < 0.75
        head_born = _born(rng, 30, 75)
        members.append(("户主", head_male, head_born))
        for _ in range(size - 1):
            kind = rng.random()
            if kind < 0.3 and not any(r == "配偶" for r, _, _ in members):
                members.append(("配偶", not head_male, _born(rng, 28, 75)))
            elif kind < 0.85:
                male = rng.random() < 0.5
                members.append(("之子" if male else "之女", male, _born(rng, 0, 25)))
            else:
                male = rng.random() < 0.5
                members.append(("之父" if male else "之母", male, _born(rng, 60, 90)))
        working_any = False
        member_rows = []
        for index, (relation, male, born) in enumerate(members):
            member_id += 1
            age = (20181231 - (born.year * 10000 + born.month * 100 + born.day)) // 10000
            health = rng.choices(["健康", "长期慢性病", "患有大病", "残疾"], [0.85, 0.08, 0.03, 0.04])[0]
            if cause == "因病" and index == 0:
                health = rng.choice(["长期慢性病", "患有大病"]) if rng.random() < 0.97 else "健康"
            school = "非在校生"
            education = rng.choice(["文盲或半文盲", "小学", "初中", "高中"])
            if age < 6:
                school, education = "学前教育", "学龄前儿童"
            elif age <= 14:
                school, education = GRADES.get(age, "小学"), "小学"
                if rng.random() < 0.005:
                    school = "非在校生"
            elif age <= 18:
                school = rng.choice(["高中一年级", "高中二年级", "高中三年级", "非在校生"])
            elif age <= 22:
                school = rng.choice(["大专及以上", "非在校生", "非在校生"])
            capable = 16 <= age <= 60 and health == "健康"
            skill = (
                rng.choice(["普通劳动力", "技能劳动力"])
                if capable
                else ("无劳动力" if age < 16 else "弱劳动力或半劳动力")
            )
            if capable and rng.random() < 0.01:
                skill = "无劳动力"
            working = capable and school == "非在校生" and rng.random() < 0.75
            working_any = working_any or working
            id_number = ids.make(born, male)
            problem = rng.random()
            if problem < 0.003:
                id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
            elif problem < 0.004:
                id_number = id_number[:6] + id_number[8:17]
            name = _name(rng)
            if relation == "户主":
                head_name, head_id = name, id_number
            row = {
                "id": member_id,
                "created_at": NOW,
                "updated_at": NOW,
                "household_id": hid,
                "member_no": f"M{member_id:010d}",
                "name": name,
                "name_initials": "",
                "sex": "男" if male else "女",
                "id_number": id_number,
                "relation": relation,
                "ethnicity": "汉族",
                "political_status": "群众",
                "education": education,
                "school_status": school,
                "health": health,
                "disability_type": "",
                "labour_skill": skill,
                "work_status": rng.choice(["乡（镇）内务工", "县外省内务工", "省外务工"]) if working else "",
                "work_months": rng.randint(6, 12) if working else None,
                "has_basic_medical": rng.random() > 0.01,
                "has_serious_illness": rng.random() > 0.01,
                "has_stacked_medical": rng.random() > 0.02,
                "has_employee_medical": False,
                "is_dibao": dibao if rng.random() > 0.01 else not dibao,
                "is_tekun": attribute == "特困供养脱贫户",
                "has_pension": True,
                "status": "正常" if rng.random() > 0.002 else "死亡",
                "phone": "",
                "extra": {},
                "batch_id": None,
            }
            member_rows.append(row)
            w.add(reg.Member, row)
            if dibao and rng.random() > 0.01:
                dept("dibao", id_number, name, division, category="A类")
            if school not in ("非在校生", "") and rng.random() > 0.01:
                dept("students", id_number, name, division, category=school)
                if rng.random() > 0.02:
                    dept("edu_subsidy", id_number, name, division, category="营养餐", amount=1000)
            if health == "残疾" and rng.random() > 0.05:
                dept("disabled", id_number, name, division, category="肢体")
            if working and rng.random() < 0.5:
                dept("employment", id_number, name, division, category="本地企业")
            if rng.random() < 0.001:
                dept("deaths", id_number, name, division, start_date=dt.date(2018, 6, 1))
            if rng.random() < 0.01:
                dept("public_jobs", id_number, name, division, category="保洁")
        if relocated:
            dept(
                "relocation",
                head_id,
                head_name,
                division,
                year=rng.choice([2016, 2017]),
                status="是" if rng.random() > 0.05 else "否",
                category="安置点",
            )
        if grade in ("C级", "D级") and rng.random() < 0.5:
            dept("housing", head_id, head_name, division, category=grade, status=rng.choice(["已改造", "未改造"]))
        if cause == "缺资金" and rng.random() < 0.7 or rng.random() < 0.05:
            overdue = rng.random() < 0.05
            dept(
                "loans",
                head_id,
                head_name,
                division,
                amount=50000,
                start_date=dt.date(2016, 5, 1),
                end_date=dt.date(2018, 5, 1) if overdue else dt.date(2019, 5, 1),
                status="正常",
            )
        wage = round(rng.uniform(5000, 30000), 2) if working_any else (0 if rng.random() < 0.98 else 3000)
        household = {
            "id": hid,
            "created_at": NOW,
            "updated_at": NOW,
            "household_no": f"H35{hid:014d}",
            "village_id": village_id,
            "division_code": division,
            "head_name": head_name,
            "head_name_initials": "",
            "head_id_number": head_id,
            "size": size + (1 if rng.random() < 0.02 else 0),
            "attribute": attribute,
            "exit_status": "已脱贫（享受政策）" if rng.random() > 0.005 else "返贫",
            "exit_year": exit_year,
            "identification_standard": "国家标准",
            "identification_year": 2014,
            "main_cause": cause if rng.random() > 0.003 else "",
            "other_causes": [],
            "income_per_capita": income,
            "wage_income": wage,
            "business_income": round(rng.uniform(1000, 8000), 2) if rng.random() < 0.3 else None,
            "property_income": None,
            "transfer_income": round(rng.uniform(500, 3000), 2),
            "business_costs": round(rng.uniform(200, 2000), 2) if rng.random() < 0.28 else None,
            "house_grade": grade,
            "house_area": 80,
            "renovation_status": "未改造" if grade in ("C级", "D级") and rng.random() < 0.3 else "",
            "is_relocated": relocated,
            "relocation_year": rng.choice([2016, 2017]) if relocated else None,
            "moved_in": (rng.random() > 0.05) if relocated else None,
            "safe_water": True,
            "has_electricity": True,
            "has_sanitary_toilet": True,
            "phone": f"138{hid:08d}",
            "extra": {},
            "batch_id": None,
        }
        w.add(reg.Household, household)
        # measures: mostly answering the cause
        roll = rng.random()
        kinds = []
        if roll > 0.03:
            kinds = [rng.choice(DEFAULT_CAUSE_MEASURES[cause]) if rng.random() > 0.05 else rng.choice(ALL_MEASURES)]
            kinds += [rng.choice(ALL_MEASURES) for _ in range(rng.randint(0, 2))]
            if roll < 0.04:
                kinds = ["生活救助"]
        for kind in kinds:
            measure_id += 1
            stale = kind == "产业扶持" and rng.random() < 0.05
            w.add(
                reg.Measure,
                {
                    "id": measure_id,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "household_id": hid,
                    "measure_type": kind,
                    "content": kind + "项目",
                    "project_no": "",
                    "amount": None if rng.random() < 0.02 else rng.randint(500, 20000),
                    "responsible_person": "" if rng.random() < 0.01 else "林志强",
                    "start_date": dt.date(2016, 3, 1) if stale else dt.date(2018, rng.randint(1, 10), 1),
                    "end_date": dt.date(2017, 6, 30) if stale else None,
                    "status": "已完成" if stale else "实施中",
                    "batch_id": None,
                },
            )
        # helper and visits
        if rng.random() > 0.01:
            assignment_id += 1
            # a few helpers get far more than their four households
            index = min((hid - 1) // 4, helper_count - 1) if rng.random() > 0.01 else rng.randrange(0, 50)
            helper = helper_ids[min(index, helper_count - 1)]
            w.add(
                reg.Assignment,
                {
                    "id": assignment_id,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "helper_id": helper,
                    "household_id": hid,
                    "is_first": True,
                    "batch_id": None,
                },
            )
            months = [3, 6, 9, 12] if rng.random() > 0.05 else [3, 6, 11]
            if rng.random() < 0.04:
                months = months[-2:]
            for n, month in enumerate(months):
                visit_id += 1
                last = n == len(months) - 1
                w.add(
                    reg.Visit,
                    {
                        "id": visit_id,
                        "created_at": NOW,
                        "updated_at": NOW,
                        "household_id": hid,
                        "helper_id": helper,
                        "helper_name": "帮扶干部",
                        "visited_at": timezone.make_aware(dt.datetime(2018, month, rng.randint(1, 28), 10, 0)),
                        "visit_type": "了解基本情况",
                        "longitude": None,
                        "latitude": None,
                        "content": "走访",
                        "poverty_handbook_filled": not (last and rng.random() < 0.02),
                        "assignment_handbook_filled": True,
                        "needs": "想申请贷款" if last and rng.random() < 0.01 else "",
                        "knows_helper": not (last and rng.random() < 0.01),
                        "satisfaction": "不满意" if last and rng.random() < 0.01 else "满意",
                        "batch_id": None,
                    },
                )
        # national snapshot: equal, but for a few differences and missing households
        if rng.random() > 0.005:
            national_id += 1
            data = {k: household[k] for k in ("head_name", "head_id_number", "attribute", "exit_status", "main_cause")}
            data.update(
                size=household["size"], exit_year=exit_year, income_per_capita=f"{income:.2f}".rstrip("0").rstrip(".")
            )
            if rng.random() < 0.01:
                data["size"] = household["size"] + 1
            w.add(
                reg.NationalHousehold,
                {
                    "id": national_id,
                    "snapshot_id": snapshot_id,
                    "household_no": household["household_no"],
                    "division_code": division,
                    "data": data,
                },
            )
            for row in member_rows:
                national_member_id += 1
                mdata = {
                    k: row[k]
                    for k in (
                        "name",
                        "sex",
                        "relation",
                        "education",
                        "school_status",
                        "health",
                        "labour_skill",
                        "work_status",
                        "id_number",
                    )
                }
                mdata.update(is_dibao=row["is_dibao"], has_basic_medical=row["has_basic_medical"])
                if rng.random() < 0.01:
                    mdata["health"] = "健康" if row["health"] != "健康" else "长期慢性病"
                w.add(
                    reg.NationalMember,
                    {
                        "id": national_member_id,
                        "snapshot_id": snapshot_id,
                        "household_no": household["household_no"],
                        "member_no": row["member_no"],
                        "id_number": row["id_number"],
                        "division_code": division,
                        "data": mdata,
                    },
                )
    w.flush()
    _reset_sequences()
    return w.counts


def _reset_sequences() -> None:
    from django.core.management.color import no_style

    models = [
        reg.Helper,
        reg.Household,
        reg.Member,
        reg.Measure,
        reg.Visit,
        reg.Assignment,
        reg.DeptListEntry,
        reg.NationalSnapshot,
        reg.NationalHousehold,
        reg.NationalMember,
    ]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def rows_per_table() -> Iterable[tuple[str, int]]:
    for model in (
        reg.Household,
        reg.Member,
        reg.Helper,
        reg.Assignment,
        reg.Measure,
        reg.Visit,
        reg.DeptListEntry,
        reg.NationalHousehold,
        reg.NationalMember,
    ):
        yield model.__name__, model.objects.count()
