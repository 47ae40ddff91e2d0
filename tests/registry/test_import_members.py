"""Member sheets: references to households in the file or the registry, keys, multi-value cells."""

from __future__ import annotations

import pytest

from lookback.accounts.roles import Role
from lookback.registry.models import Household, Member
from tests import factories as f
from tests.registry.test_import_helpers import (
    MEMBER_HEADERS,
    errors_of,
    household_row,
    member_row,
    run,
    table,
    valid_id,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


def test_members_in_the_same_workbook_and_in_the_registry(tmp_path):
    registered = f.make_household(f.SONGKOU_VILLAGE, household_no="R1")
    households = table([household_row("H1")])
    members = table(
        [
            member_row("H1", "M1"),
            member_row("H1", "M2", 姓名="林秀", 性别="女", 与户主关系="配偶", 健康状况="残疾、长期慢性病"),
            member_row("R1", "M3", 与户主关系="本人", 劳动技能="弱劳动力或半劳动力"),
        ]
    )
    # the member sheet comes first: it waits for the household sheet after it
    batch = run(write_xlsx(tmp_path / "户和人.xlsx", {"成员": members, "户": households}))
    assert batch.status == "stored", batch.errors
    assert batch.details["counts"] == {
        "members": {"new": 3, "updated": 0, "unchanged": 0},
        "households": {"new": 1, "updated": 0, "unchanged": 0},
    }
    h1 = Household.objects.get(household_no="H1")
    assert sorted(h1.members.values_list("member_no", flat=True)) == ["M1", "M2"]
    spouse = Member.objects.get(member_no="M2")
    assert spouse.health == "残疾,长期慢性病" and spouse.sex == "女" and spouse.name_initials == "lx"
    m3 = Member.objects.get(member_no="M3")
    assert m3.household == registered and m3.relation == "户主" and m3.status == "正常"


def test_aliases_of_member_headers(tmp_path):
    f.make_household(f.SONGKOU_VILLAGE, household_no="R1")
    rows = [
        ["户编号", "人口编号", "姓名", "身份证号码", "与户主关系", "健康状况", "劳动能力", "是否参加新型农村合作医疗",
         "是否参加大病保险", "是否享受低保", "是否特困供养", "人员状态"],
        ["R1", "P1", "王五", valid_id(), "户主", "大病", "无劳动力", "1", "N", "有", "无", ""],
    ]  # fmt: skip
    batch = run(write_csv(tmp_path / "m.csv", rows))
    assert batch.status == "stored", batch.errors
    m = Member.objects.get(member_no="P1")
    assert (m.health, m.labour_skill, m.has_basic_medical, m.has_serious_illness, m.is_dibao, m.is_tekun) == (
        "患有大病",
        "无劳动力",
        True,
        False,
        True,
        False,
    )


def test_a_reference_to_an_unknown_household_is_an_error(tmp_path):
    rows = table([member_row("H404", "M1")])
    batch = run(write_csv(tmp_path / "m.csv", rows))
    assert batch.status == "rejected"
    assert errors_of(batch) == [(2, "户编号", "该户编号在本文件和系统中都不存在")]
    assert not Member.objects.exists()


def test_members_without_member_no_are_keyed_by_id_number(tmp_path):
    f.make_household(f.SONGKOU_VILLAGE, household_no="R1")
    ident = valid_id()
    headers = [h for h in MEMBER_HEADERS if h != "人编号"]
    path = write_csv(tmp_path / "m.csv", table([member_row("R1", "", 证件号码=ident)], headers))
    assert run(path).rows_new == 1
    again = run(path)
    assert (again.rows_new, again.rows_unchanged) == (0, 1)
    assert Member.objects.get().member_no is None
    duplicated = table([member_row("R1", "", 证件号码=ident), member_row("R1", "", 证件号码=ident)], headers)
    batch = run(write_csv(tmp_path / "d.csv", duplicated))
    assert errors_of(batch)[0][:2] == (3, "证件号码")


def test_a_member_key_missing_or_repeated_is_an_error(tmp_path):
    f.make_household(f.SONGKOU_VILLAGE, household_no="R1")
    rows = table([member_row("R1", "M1"), member_row("R1", "M1"), member_row("R1", "", 证件号码="")])
    batch = run(write_csv(tmp_path / "m.csv", rows))
    assert {(r, c) for r, c, _ in errors_of(batch)} == {(3, "人编号"), (4, "人编号")}


def test_same_id_number_in_two_households_is_stored(tmp_path):
    f.make_household(f.SONGKOU_VILLAGE, household_no="R1")
    f.make_household(f.SONGKOU_VILLAGE, household_no="R2")
    ident = valid_id()
    rows = table([member_row("R1", "M1", 证件号码=ident), member_row("R2", "M2", 证件号码=ident)])
    batch = run(write_csv(tmp_path / "m.csv", rows))
    assert batch.status == "stored", batch.errors
    assert Member.objects.filter(id_number=ident).count() == 2


def test_member_of_a_household_outside_scope_is_an_error(tmp_path):
    f.make_household(f.first_village(f.MINQING).code, household_no="MQ1")
    county = f.make_user(Role.COUNTY, f.YONGTAI)
    batch = run(write_csv(tmp_path / "m.csv", table([member_row("MQ1", "M1")])), user=county)
    assert errors_of(batch) == [(2, "户编号", "该户不在您的管辖范围内")]


def test_moving_a_member_updates_it_and_lowercase_x_is_stored_upper(tmp_path):
    f.make_household(f.SONGKOU_VILLAGE, household_no="R1")
    f.make_household(f.SONGKOU_VILLAGE, household_no="R2")
    run(write_csv(tmp_path / "a.csv", table([member_row("R1", "M1", 证件号码="35012519850309001x")])))
    batch = run(write_csv(tmp_path / "b.csv", table([member_row("R2", "M1", 证件号码="35012519850309001X")])))
    assert (batch.rows_updated, batch.rows_new) == (1, 0)
    member = Member.objects.get()
    assert member.household.household_no == "R2" and member.id_number == "35012519850309001X"


def test_reimport_compares_yes_no_decimals_and_unknown_columns_as_stored(tmp_path):
    """A re-import reads the stored rows back as the file parses them (1/0 for 是/否, 6500.35, the
    unknown columns' object): equal data is unchanged, one flipped 是/否 is one update with history."""
    household = household_row("H1", **{"人均纯收入（元）": "6,500.35"})
    run(write_csv(tmp_path / "h.csv", table([household])))
    rows = [
        member_row("H1", "M1", **{"务工时间（月）": "7.5", "备注": "外出务工"}),
        member_row("H1", "M2", 证件号码=valid_id(seq=12), 与户主关系="配偶", 性别="女", 是否享受低保="√"),
    ]
    first = run(write_csv(tmp_path / "m.csv", table(rows)))
    assert (first.rows_new, first.rows_updated, first.rows_unchanged) == (2, 0, 0)
    history = Member.history.count()

    again = run(write_csv(tmp_path / "m2.csv", table(rows)))
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    without_note = table(rows, [h for h in rows[0] if h != "备注"])
    assert run(write_csv(tmp_path / "m3.csv", without_note)).rows_unchanged == 2
    assert Member.objects.get(member_no="M1").extra == {"备注": "外出务工"}  # kept from the first file
    households = run(write_csv(tmp_path / "h2.csv", table([{**household, "人均纯收入（元）": "6500.350"}])))
    assert (households.rows_updated, households.rows_unchanged) == (0, 1)
    assert Member.history.count() == history

    rows[1]["是否享受低保"] = "否"
    changed = run(write_csv(tmp_path / "m4.csv", table(rows)))
    assert (changed.rows_new, changed.rows_updated, changed.rows_unchanged) == (0, 1, 1)
    latest = Member.objects.get(member_no="M2").history.first()
    assert latest.history_type == "~"
    changes = {c.field: (c.old, c.new) for c in latest.diff_against(latest.prev_record).changes}
    assert changes.pop("batch")[1] == changed.pk  # the row now says which import wrote it last
    assert changes == {"is_dibao": (True, False)}
