"""National snapshots: stored by date, never merged, and compared with the registry field by field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import python_calamine

from lookback.accounts.roles import Role
from lookback.registry.models import Household, Member, NationalSnapshot
from lookback.registry.snapshots import Kind, export_differences, snapshots_for_user, summarise
from tests import factories as f
from tests.registry.test_import_helpers import household_row, member_row, run, table, valid_id, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(db):
    zouhu = "350125101201"
    h1 = f.make_household(
        zouhu, household_no="H1", head_name="王建华", main_cause="因病", income_per_capita=Decimal("6500")
    )
    f.make_member(h1, member_no="M1", name="王建华", id_number=valid_id(seq=2), health="健康")
    f.make_member(h1, member_no="M2", name="林秀", id_number=valid_id(seq=3), relation="配偶", sex="女")
    h2 = f.make_household(zouhu, household_no="H2", head_name="李明")
    f.make_member(h2, member_no="M3", name="李明", id_number=valid_id(seq=4))
    f.make_household(zouhu, household_no="H3", head_name="只在台账")
    return h1


def test_snapshot_is_stored_not_merged_and_compared_after_normalising(tmp_path, registry):
    h1 = registry
    households = [
        # the same household written the national system's way: codes, village without suffix
        household_row(
            "H1",
            行政村="邹湖",
            户主姓名="王建华",
            户主证件号码=h1.head_id_number,
            家庭人口数="1",
            贫困户属性="05",
            脱贫状态="1",
            脱贫年度="2017",
            主要致贫原因="01",
            **{"人均纯收入（元）": "6,500.00"},
        ),
        household_row(
            "H2",
            行政村="月阙村",  # another village
            户主姓名="李明",
            户主证件号码=Household.objects.get(household_no="H2").head_id_number,
            主要致贫原因="缺技术",
            家庭人口数="2",  # another size
        ),
        household_row("H4", 户主姓名="只在国扶"),
    ]
    members = [
        member_row("H1", "M1", 姓名="王建华", 证件号码=valid_id(seq=2), 健康状况="长期慢性病", 是否享受低保=""),
        member_row("H1", "M9", 姓名="新人", 证件号码=valid_id(seq=9)),
        member_row("H2", "M3", 姓名="李明", 证件号码=valid_id(seq=4), 是否享受低保=""),
        member_row("H4", "M4", 姓名="只在国扶"),
    ]
    county = f.make_user(Role.COUNTY, f.YONGTAI)
    path = write_xlsx(tmp_path / "国扶.xlsx", {"户": table(households), "人": table(members)})
    batch = run(path, user=county, as_national_snapshot=True, snapshot_date=dt.date(2018, 11, 30))
    assert batch.status == "stored", batch.errors

    # not merged: the registry is as it was
    assert sorted(Household.objects.values_list("household_no", flat=True)) == ["H1", "H2", "H3"]
    assert Member.objects.count() == 3
    snapshot = NationalSnapshot.objects.get()
    assert snapshot.snapshot_date == dt.date(2018, 11, 30) and snapshot.division_code == f.YONGTAI
    assert snapshot.households.count() == 3 and snapshot.members.count() == 4
    assert list(snapshots_for_user(county)) == [snapshot]

    summary = summarise(county, snapshot)
    found = {(d.kind, d.household_no, d.member, d.field, d.registry, d.national) for d in summary.shown}
    assert found == {
        (Kind.MISSING_IN_SNAPSHOT, "H3", "", "", "", ""),
        (Kind.MISSING_IN_REGISTRY, "H4", "", "", "", ""),
        (Kind.FIELD, "H2", "", "所在村", "邹湖村委会", "月阙村委会"),
        (Kind.FIELD, "H2", "", "家庭人口数", "1", "2"),
        (Kind.MEMBER_FIELD, "H1", "M1", "健康状况", "健康", "长期慢性病"),
        (Kind.MEMBER_MISSING_IN_SNAPSHOT, "H1", "M2", "", "", ""),
        (Kind.MEMBER_MISSING_IN_REGISTRY, "H1", "M9", "", "", ""),
    }
    # H1 differs in nothing else: codes vs labels, 邹湖 vs 邹湖村委会 and 6,500.00 vs 6500 are equal

    target = export_differences(county, snapshot, tmp_path / "diff.xlsx")
    rows = python_calamine.CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert rows[1][:3] == ["差异类型", "户编号", "行政区划代码"]
    assert len(rows) == 2 + summary.total
    assert "导出人" in rows[0][0]

    # re-importing the same snapshot changes nothing
    again = run(path, user=county, as_national_snapshot=True, snapshot_date=dt.date(2018, 11, 30))
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 7)
    assert NationalSnapshot.objects.count() == 1


def test_other_scopes_do_not_see_a_county_snapshot(tmp_path, registry):
    county = f.make_user(Role.COUNTY, f.YONGTAI)
    run(
        write_xlsx(tmp_path / "国扶.xlsx", {"户": table([household_row("H1")])}),
        user=county,
        as_national_snapshot=True,
    )
    minqing = f.make_user(Role.COUNTY, f.MINQING)
    assert not snapshots_for_user(minqing).exists()
    assert snapshots_for_user(f.make_user(Role.CITY, f.CITY)).count() == 1
