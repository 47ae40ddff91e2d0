"""Household sheets against `spec/import-format.md`: headers, aliases, codes, yes/no, places, errors,
atomic files and idempotent re-imports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lookback.accounts.roles import Role
from lookback.registry.models import Household, ImportBatch, Member
from tests import factories as f
from tests.registry.test_import_helpers import (
    HOUSEHOLD_HEADERS,
    errors_of,
    household_row,
    member_row,
    run,
    table,
    valid_id,
    warnings_of,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db

ZOUHU = "350125101201"  # 嵩口镇 邹湖村委会
YUEQUE = "350125101202"  # 嵩口镇 月阙村委会


def test_title_rows_shuffled_columns_aliases_codes_and_yes_no(tmp_path):
    headers = [
        "人数",  # alias of 家庭人口数
        "户编号",
        "村",  # alias of 行政村
        "脱贫标志",  # alias of 脱贫状态
        "县(市、区)",
        "户主证件号码",
        "乡（镇）",
        "户主姓名",
        "家庭年人均纯收入",  # alias of 人均纯收入（元）
        "贫困户属性",
        "脱贫年度",
        "主要致贫原因",
        "其他致贫原因",
        "工资性收入(元)",  # half-width brackets
        "是否造福工程搬迁户",
        "饮水是否安全",
        "有无卫生厕所",
        "是否通生活用电",
        "住房安全等级",
        "备注",  # unknown column
    ]
    rows = [
        ["福州市永泰县贫困户信息"],
        ["填报单位：嵩口镇", "", "", "单位：元"],
        headers,
        [3.0, "H1", "邹湖", "1", "永泰县", valid_id(), "嵩口镇", "王建华", "6,500.50", "05", 2017.0, "01",
         "缺技术、缺资金", 12000, "√", "是", "有", "Y", "C"],
        [2, "H2", "月阙村委会", "已脱贫", "永泰", valid_id(), "嵩口", "李明", 5000, "五保脱贫户", "2016", "缺劳力",
         "", "", "×", "否", "无", "0", "B级", "低保边缘户"],
    ]  # fmt: skip
    batch = run(write_xlsx(tmp_path / "户.xlsx", {"导出": rows}))

    assert batch.status == ImportBatch.Status.STORED, batch.errors
    assert (batch.rows_new, batch.rows_updated, batch.rows_unchanged) == (2, 0, 0)
    h1 = Household.objects.get(household_no="H1")
    assert h1.division_code == ZOUHU and h1.village.code == ZOUHU
    assert h1.size == 3 and h1.exit_year == 2017
    assert h1.attribute == "一般脱贫户"  # code 05
    assert h1.exit_status == "已脱贫（享受政策）"  # code 1
    assert h1.main_cause == "因病"  # code 01
    assert h1.other_causes == ["缺技术", "缺资金"]
    assert h1.income_per_capita == Decimal("6500.50")
    assert h1.wage_income == Decimal("12000")
    assert (h1.is_relocated, h1.safe_water, h1.has_sanitary_toilet, h1.has_electricity) == (True, True, True, True)
    assert h1.house_grade == "C级"
    assert h1.head_name_initials == "wjh"
    h2 = Household.objects.get(household_no="H2")
    assert h2.division_code == YUEQUE
    assert h2.attribute == "特困供养脱贫户"  # older label 五保脱贫户
    assert h2.main_cause == "缺劳动力"  # older label 缺劳力
    assert (h2.is_relocated, h2.safe_water, h2.has_sanitary_toilet, h2.has_electricity) == (False, False, False, False)
    assert h2.extra == {"备注": "低保边缘户"}
    # an empty yes/no cell is unknown, not no
    assert h2.moved_in is None
    assert (3, "备注", "未知的列，已原样保存为其他信息") in warnings_of(batch)


@pytest.mark.parametrize("village", ["邹湖", "邹湖村", "邹湖村委会", "邹湖村民委员会", " 邹湖村 "])
def test_village_names_with_or_without_suffix(tmp_path, village):
    batch = run(write_csv(tmp_path / "h.csv", table([household_row("H1", 行政村=village)])))
    assert batch.status == "stored", batch.errors
    assert Household.objects.get().division_code == ZOUHU


def test_community_names_resolve_with_either_suffix(tmp_path):
    # 嵩口居委会 is the table's name; exports write 嵩口社区 or 嵩口社区居委会.
    rows = [household_row("H1", 行政村="嵩口社区"), household_row("H2", 行政村="嵩口社区居委会")]
    batch = run(write_csv(tmp_path / "h.csv", table(rows)))
    assert batch.status == "stored", batch.errors
    assert set(Household.objects.values_list("division_code", flat=True)) == {"350125101001"}


def test_division_code_takes_precedence_over_names(tmp_path):
    rows = [household_row("H1", 行政村="邹湖村", 行政区划代码=YUEQUE)]
    batch = run(write_csv(tmp_path / "h.csv", table(rows)))
    assert batch.status == "stored", batch.errors
    assert Household.objects.get().division_code == YUEQUE


def test_missing_required_header_is_an_error_naming_it(tmp_path):
    headers = [h for h in HOUSEHOLD_HEADERS if h != "主要致贫原因"]
    batch = run(write_csv(tmp_path / "h.csv", table([household_row("H1")], headers)))
    assert batch.status == "rejected"
    assert errors_of(batch)[0][1] == "主要致贫原因"
    assert "缺少必需的列" in errors_of(batch)[0][2]
    assert not Household.objects.exists()


def test_unrecognisable_file_is_rejected(tmp_path):
    batch = run(write_csv(tmp_path / "x.csv", [["甲", "乙"], ["1", "2"]]))
    assert batch.status == "rejected"
    assert "没有可识别的表格" in batch.errors[0]["reason"]


def test_every_kind_of_cell_error_is_reported_with_row_and_column_and_nothing_is_stored(tmp_path):
    rows = [
        household_row("H1"),  # fine
        household_row("H2", 主要致贫原因="因穷"),  # not in the list
        household_row("H3", 行政村="不存在村"),  # not in the division table
        household_row("H4", 家庭人口数="三"),  # text in a number column
        household_row("H1"),  # key repeated
        household_row("", 户主姓名="无名"),  # key missing
        household_row("H6", 户主证件号码="3.50125E+17"),  # ID turned into a number
        household_row("H7", 脱贫年度="2017.5"),
    ]
    batch = run(write_csv(tmp_path / "h.csv", table(rows)))
    assert batch.status == "rejected"
    found = {(row, column) for row, column, _ in errors_of(batch)}
    assert found == {
        (3, "主要致贫原因"),
        (4, "行政村"),
        (5, "家庭人口数"),
        (6, "户编号"),
        (7, "户编号"),
        (8, "户主证件号码"),
        (9, "脱贫年度"),
    }
    reasons = dict(((r, c), reason) for r, c, reason in errors_of(batch))
    assert "第 2 行" in reasons[(6, "户编号")]
    assert "丢失位数" in reasons[(8, "户主证件号码")]
    # atomic: the good first row was not stored either
    assert not Household.objects.exists()
    assert batch.report_path


def test_float_mangled_id_in_a_numeric_xlsx_cell_is_rejected(tmp_path):
    row = household_row("H1")
    rows = table([row])
    rows[1][HOUSEHOLD_HEADERS.index("户主证件号码")] = 350125198503090011  # written as a number
    batch = run(write_xlsx(tmp_path / "h.xlsx", {"户": rows}))
    assert batch.status == "rejected"
    assert errors_of(batch) == [(2, "户主证件号码", errors_of(batch)[0][2])]
    assert "丢失位数" in errors_of(batch)[0][2]
    assert not Household.objects.exists()


def test_well_formed_but_wrong_values_are_stored_with_warnings(tmp_path):
    rows = [
        household_row("H1", 户主证件号码="350125850309001"),  # 15-digit old number
        household_row("H2", 户主证件号码="350125198503090010"),  # bad check digit
        household_row("H3", 户主证件号码="35012519850309"),  # wrong length
        household_row("H4", **{"家庭人口数": "9", "人均纯收入（元）": "-300"}),  # contradictory, below the line
    ]
    batch = run(write_csv(tmp_path / "h.csv", table(rows)))
    assert batch.status == "stored", batch.errors
    assert Household.objects.count() == 4
    warned = {(row, reason) for row, _, reason in warnings_of(batch)}
    assert (2, "15位旧身份证号码") in warned
    assert (3, "证件号码校验位不正确") in warned
    assert any(row == 4 and "不是18位" in reason for row, reason in warned)
    assert Household.objects.get(household_no="H4").income_per_capita == Decimal("-300")


def test_reimport_changes_nothing_and_a_changed_row_updates_with_history(tmp_path):
    rows = [household_row("H1"), household_row("H2")]
    path = write_csv(tmp_path / "h.csv", table(rows))
    first = run(path)
    assert (first.rows_new, first.rows_updated, first.rows_unchanged) == (2, 0, 0)
    history_before = Household.history.count()

    second = run(path)
    assert (second.rows_new, second.rows_updated, second.rows_unchanged) == (0, 0, 2)
    assert Household.history.count() == history_before
    assert Household.objects.count() == 2

    rows[1]["人均纯收入（元）"] = "7200"
    third = run(write_csv(tmp_path / "h2.csv", table(rows)))
    assert (third.rows_new, third.rows_updated, third.rows_unchanged) == (0, 1, 1)
    h2 = Household.objects.get(household_no="H2")
    assert h2.income_per_capita == Decimal("7200")
    latest = h2.history.first()
    assert latest.history_type == "~"
    changes = {c.field: (c.old, c.new) for c in latest.diff_against(latest.prev_record).changes}
    assert changes["income_per_capita"] == (Decimal("6500.00"), Decimal("7200.00"))


def test_columns_absent_from_a_sheet_keep_their_stored_values(tmp_path):
    rows = [household_row("H1", **{"住房面积（㎡）": "85.5"})]
    run(write_csv(tmp_path / "a.csv", table(rows)))
    batch = run(write_csv(tmp_path / "b.csv", table(rows, HOUSEHOLD_HEADERS)))
    assert batch.rows_unchanged == 1
    assert Household.objects.get().house_area == Decimal("85.5")


def test_batch_records_who_when_file_hash_and_counts(tmp_path):
    user = f.make_user(Role.COUNTY, f.YONGTAI)
    path = write_csv(tmp_path / "户表.csv", table([household_row("H1")]))
    batch = run(path, user=user)
    assert batch.created_by == user and batch.file_name == "户表.csv"
    assert len(batch.sha256) == 64 and batch.created_at is not None
    assert batch.division_code == f.YONGTAI
    assert batch.kind == "households"
    assert batch.details["counts"] == {"households": {"new": 1, "updated": 0, "unchanged": 0}}
    assert Household.objects.get().batch_id == batch.pk
    assert Household.history.get().history_user == user


def test_rows_outside_the_importers_scope_are_errors(tmp_path):
    township = f.make_user(Role.TOWNSHIP, f.SONGKOU)
    other = f.first_village(f.MINQING)
    rows = [household_row("H1"), household_row("H2", 县="闽清县", 乡镇=other.parent.name, 行政村=other.name)]
    batch = run(write_csv(tmp_path / "h.csv", table(rows)), user=township)
    assert batch.status == "rejected"
    assert errors_of(batch) == [(3, "行政村", "该村不在您的管辖范围内")]
    assert not Household.objects.exists()
    # the city may import both
    assert run(write_csv(tmp_path / "h2.csv", table(rows)), user=f.make_user(Role.CITY, f.CITY)).status == "stored"


def test_existing_household_of_another_scope_cannot_be_taken_over(tmp_path):
    f.make_household(f.first_village(f.MINQING).code, household_no="H9")
    county = f.make_user(Role.COUNTY, f.YONGTAI)
    batch = run(write_csv(tmp_path / "h.csv", table([household_row("H9")])), user=county)
    assert batch.status == "rejected"
    assert errors_of(batch)[0][:2] == (2, "户编号")
    assert Household.objects.get(household_no="H9").division_code.startswith("350124")


def test_users_without_the_import_capability_cannot_import(tmp_path):
    from lookback.registry.services_import import ImportNotAllowed

    village_team = f.make_user(Role.VILLAGE, f.SONGKOU_VILLAGE)
    with pytest.raises(ImportNotAllowed):
        run(write_csv(tmp_path / "h.csv", table([household_row("H1")])), user=village_team)
    assert not ImportBatch.objects.exists()


def test_dry_run_validates_and_writes_nothing(tmp_path):
    batch = run(write_csv(tmp_path / "h.csv", table([household_row("H1")])), dry_run=True)
    assert batch.status == "stored" and batch.rows_new == 1
    assert not Household.objects.exists()
    assert not ImportBatch.objects.exists()


class _Statements(list):
    """An execute wrapper (`connection.execute_wrapper`) that remembers the SQL of every statement."""

    def __call__(self, execute, sql, params, many, context):
        self.append(sql)
        return execute(sql, params, many, context)


def _indexes() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        return {
            index
            for table in ("registry_household", "registry_historicalhousehold")
            for index in connection.introspection.get_constraints(cursor, table)
        }


def test_a_large_file_is_stored_with_its_indexes_dropped_and_built_again(tmp_path, monkeypatch):
    """A long sheet drops the table's secondary indexes while it is stored (SQLite and PostgreSQL) and
    builds them again before the import commits; a rejected file gets them back with the rollback."""
    from django.db import connection

    from lookback.registry.importers import store

    monkeypatch.setattr(store, "DEFER_MIN_ROWS", 1)
    before = _indexes()
    statements = _Statements()

    rows = [household_row(f"H{n}") for n in range(3)]
    with connection.execute_wrapper(statements):
        batch = run(write_csv(tmp_path / "h.csv", table(rows)))
    assert batch.rows_new == 3
    dropped = [s for s in statements if s.startswith("DROP INDEX")]
    assert dropped and any("division_code" in s for s in statements if s.startswith("CREATE INDEX"))
    # The history table's rows arrive in the order of its indexes' keys: kept up as they come.
    assert not any("historicalhousehold" in s for s in dropped)
    assert len([s for s in statements if s.startswith("CREATE INDEX")]) == len(dropped)
    assert _indexes() == before
    assert Household.history.filter(household_no="H2").count() == 1
    assert Household.objects.filter(division_code__startswith="3501").count() == 3  # the rebuilt index answers

    # Households are stored (indexes dropped) before the member sheet's error rejects the file.
    sheets = {"户": table([household_row(f"N{n}") for n in range(3)]), "人": table([member_row("H404", "M1")])}
    rejected = run(write_xlsx(tmp_path / "bad.xlsx", sheets))
    assert rejected.status == "rejected" and not Household.objects.filter(household_no="N0").exists()
    assert _indexes() == before


def test_a_table_grown_by_a_large_file_is_analysed_before_commit(tmp_path, monkeypatch):
    from django.db import connection

    from lookback.registry.importers import store

    monkeypatch.setattr(store, "ANALYSE_MIN_ROWS", 2)
    statements = _Statements()

    with connection.execute_wrapper(statements):
        run(write_csv(tmp_path / "one.csv", table([household_row("H1")])))
        run(write_csv(tmp_path / "two.csv", table([household_row("H2"), household_row("H3")])))
    analysed = [sql for sql in statements if sql.startswith("ANALYZE")]
    assert analysed == (['ANALYZE "registry_household"'] if connection.vendor == "postgresql" else [])


def test_a_table_is_analysed_as_it_doubles_while_a_file_fills_it(tmp_path, monkeypatch):
    """Later chunks of the file look rows up in the table the earlier ones filled: on PostgreSQL its
    statistics are refreshed each time it doubles, so the planner uses the indexes, not a scan a chunk."""
    from django.db import connection

    from lookback.registry.importers import base, store

    monkeypatch.setattr(store, "ANALYSE_MIN_ROWS", 2)
    monkeypatch.setattr(base, "CHUNK", 3)
    statements: list[str] = []
    execute = store._execute

    def remember(raw, batch):
        statements.extend(sql for sql, _ in batch)
        execute(raw, batch)

    monkeypatch.setattr(store, "_execute", remember)
    batch = run(write_csv(tmp_path / "h.csv", table([household_row(f"H{n}") for n in range(13)])))
    assert batch.rows_new == 13
    analysed = [sql for sql in statements if sql.startswith("ANALYZE")]
    # after 3 rows (at least 2), 6 (twice 3), 12 (twice 6)
    assert analysed == (['ANALYZE "registry_household"'] * 3 if connection.vendor == "postgresql" else [])


def _constraints(table: str) -> dict[str, tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: (tuple(c["columns"]), c["foreign_key"], c["index"]) for name, c in found.items()}


def test_a_first_load_drops_the_members_foreign_key_to_households_and_adds_it_back(tmp_path, monkeypatch):
    """On PostgreSQL a large first load drops member → household (both tables are held by the import
    already) and adds it back before commit; a rejected file gets it back with the rollback. Foreign
    keys to tables others read (batches, places, users) stay."""
    from django.db import connection

    from lookback.registry.importers import store

    monkeypatch.setattr(store, "DEFER_MIN_ROWS", 1)
    monkeypatch.setattr(store, "DEFER_MIN_SHARE", 0)  # ids left by earlier tests must not matter
    before = _constraints("registry_member")
    assert ("registry_household", "id") in [fk for _, fk, _ in before.values()]
    statements = _Statements()

    sheets = {"户": table([household_row(f"H{n}") for n in range(3)]), "人": table([member_row("H1", "M1")])}
    with connection.execute_wrapper(statements):
        batch = run(write_xlsx(tmp_path / "good.xlsx", sheets))
    assert batch.status == "stored", batch.errors
    dropped = [s for s in statements if "DROP CONSTRAINT" in s and "_fk_" in s]
    added = [s for s in statements if "ADD CONSTRAINT" in s and "FOREIGN KEY" in s]
    if connection.vendor == "postgresql":
        assert len(dropped) == 1 and dropped[0].startswith('ALTER TABLE "registry_member"')
        assert len(added) == 1 and "REFERENCES registry_household(id) DEFERRABLE INITIALLY DEFERRED" in added[0]
    else:
        assert not dropped and not added
    assert _constraints("registry_member") == before
    assert Member.objects.get(member_no="M1").household.household_no == "H1"

    # members stored (foreign key dropped) before a later sheet's error rejects the file
    statements.clear()
    bad = {
        "户": table([household_row(f"N{n}") for n in range(3)]),
        "人": table([member_row("N1", "M9")]),
        "人2": table([member_row("H404", "M10")]),
    }
    with connection.execute_wrapper(statements):
        rejected = run(write_xlsx(tmp_path / "bad.xlsx", bad))
    assert rejected.status == "rejected"
    assert len([s for s in statements if "DROP CONSTRAINT" in s and "_fk_" in s]) == (connection.vendor == "postgresql")
    assert _constraints("registry_member") == before
    assert not Member.objects.filter(member_no="M9").exists()


def test_a_first_load_into_empty_tables_drops_their_lookup_indexes_and_unique_constraints(tmp_path, monkeypatch):
    """Tables that were empty are never asked for a row while a first load fills them: their lookup
    indexes (and on PostgreSQL their unique constraints) are built again once at the end. A key the file
    holds twice across two sheets still fails the import, which stores nothing."""
    from django.db import connection

    from lookback.registry.importers import store

    monkeypatch.setattr(store, "DEFER_MIN_ROWS", 1)
    monkeypatch.setattr(store, "DEFER_MIN_SHARE", 0)
    before = {t: _constraints(t) for t in ("registry_household", "registry_member")}
    statements = _Statements()

    sheets = {"户": table([household_row(f"H{n}") for n in range(3)]), "人": table([member_row("H1", "M1")])}
    with connection.execute_wrapper(statements):
        batch = run(write_xlsx(tmp_path / "good.xlsx", sheets))
    assert batch.status == "stored", batch.errors
    dropped = " ".join(s for s in statements if s.startswith("DROP INDEX"))
    assert "member_id_number" in dropped and "member_household_id" in dropped
    unique_dropped = [s for s in statements if "DROP CONSTRAINT" in s and "_key" in s]
    if connection.vendor == "postgresql":
        assert {s.split('"')[3] for s in unique_dropped} == {"registry_household_household_no_key"}
        # 人编号's uniqueness is an index with an operator class, not a constraint, to PostgreSQL
        assert "uniq_member_no" in dropped
    else:
        assert not unique_dropped  # SQLite keeps a unique column's index inside the table
        assert "uniq_member_no" not in dropped
    assert {t: _constraints(t) for t in before} == before
    assert Member.objects.get(member_no="M1").household.household_no == "H1"
    Member.objects.all().delete()
    Household.objects.all().delete()

    twice = {
        "户": table([household_row("D1")]),
        "人": table([member_row("D1", "M1")]),
        "人2": table([member_row("D1", "M1", 证件号码=valid_id(seq=77))]),
    }
    rejected = run(write_xlsx(tmp_path / "twice.xlsx", twice))
    assert rejected.status == "rejected" and not Household.objects.exists() and not Member.objects.exists()
    assert [(e["sheet"], e["row"], e["column"]) for e in rejected.errors] == [("人2", 2, "人编号")]
    assert {t: _constraints(t) for t in before} == before


@pytest.mark.parametrize("through_reader", [False, True], ids=["in-process", "reader-process"])
def test_a_key_in_two_sheets_of_one_file_is_a_named_error(tmp_path, monkeypatch, through_reader):
    """A workbook with a household sheet per township that lists one household twice: the second is
    reported at its cell, naming the sheet and row that had it first, and nothing is stored (it was an
    internal error from the database's unique constraint, or a silent update by the later sheet)."""
    from lookback.registry.importers import reader_process

    if through_reader:
        monkeypatch.setattr(reader_process, "MIN_BYTES", 0)
    sheets = {
        "城关镇": table([household_row("T1"), household_row("T2")]),
        "葛岭镇": table([household_row("T3"), household_row("T1", 户主姓名="另一人")]),
        "人": table([member_row("T1", "P1"), member_row("T3", "P1", 证件号码=valid_id(seq=55))]),
    }
    batch = run(write_xlsx(tmp_path / "townships.xlsx", sheets))
    assert batch.status == "rejected"
    assert [(e["sheet"], e["row"], e["column"], e["value"]) for e in batch.errors] == [
        ("葛岭镇", 3, "户编号", "T1"),
        ("人", 3, "人编号", "P1"),
    ]
    assert batch.errors[0]["reason"] == "户编号在本文件中重复（工作表“城关镇”第 2 行已有）"
    assert batch.errors[1]["reason"] == "人编号在本表中重复（第 2 行已有）"
    assert not Household.objects.exists() and not Member.objects.exists()


def test_a_first_load_into_empty_tables_does_not_look_for_existing_rows(tmp_path, monkeypatch):
    """Households and members are keyed by numbers unique in the file: while a large first load holds
    tables that were empty, none of their rows can match a later chunk, so no lookup is made. A second
    load of the same file looks them up and finds every row unchanged."""
    from django.db import connection

    from lookback.registry.importers import base, store

    monkeypatch.setattr(store, "DEFER_MIN_ROWS", 1)
    monkeypatch.setattr(store, "DEFER_MIN_SHARE", 0)
    monkeypatch.setattr(base, "CHUNK", 3)
    statements = _Statements()

    def lookups() -> int:
        return len(
            [s for s in statements if s.startswith('SELECT t."id"') and "registry_member" in s.split("WHERE")[0]]
        )

    houses = table([household_row(f"H{n}") for n in range(7)])
    members = table([member_row(f"H{n}", f"M{n}-{k}") for n in range(7) for k in range(2)])
    path = write_xlsx(tmp_path / "first.xlsx", {"户": houses, "人": members})
    with connection.execute_wrapper(statements):
        batch = run(path)
    assert batch.status == "stored", batch.errors
    assert (batch.rows_new, Member.objects.count()) == (21, 14)
    assert lookups() == 1  # the first chunk's, made before the load takes the table over
    if connection.vendor == "postgresql":
        # Past each table's first chunk, ids for the rest of the sheet are reserved in one block (a query
        # per chunk would wait for the chunks written behind): one setval per table, not one per chunk.
        assert len([s for s in statements if "setval" in s]) == 2
    later = f.make_household(f.SONGKOU_VILLAGE, household_no="LATER")  # the sequence is past the file's ids
    assert later.pk > max(Household.objects.exclude(pk=later.pk).values_list("pk", flat=True))
    with connection.execute_wrapper(statements):
        again = run(path)
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 21)
    assert lookups() >= 5  # 14 members in chunks of 3
