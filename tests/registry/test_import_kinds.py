"""Helper assignments, measures, visits and department lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lookback.accounts.roles import Role
from lookback.registry.models import Assignment, DeptListEntry, Helper, Measure, Visit
from lookback.registry.selectors import dept_matches_for_household
from tests import factories as f
from tests.registry.test_import_helpers import errors_of, run, valid_id, write_csv, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(db):
    household = f.make_household(f.SONGKOU_VILLAGE, household_no="R1")
    f.make_member(household, member_no="M1", id_number=valid_id(seq=1))
    return household


def test_helper_sheet_first_helper_defaults_and_keys(tmp_path, household):
    f.make_household(f.SONGKOU_VILLAGE, household_no="R2")
    rows = [
        ["帮扶责任人姓名", "证件号码", "帮扶单位", "职务", "联系电话", "户编号", "是否第一帮扶责任人"],
        ["林志强", valid_id("350102", seq=7), "永泰县农业农村局", "科员", "13705912345", "R1", ""],
        ["陈红", "", "嵩口镇政府", "", "13805900000", "R1", ""],
        ["林志强", valid_id("350102", seq=7), "永泰县农业农村局", "科员", "13705912345", "R2", "否"],
    ]
    path = write_csv(tmp_path / "helpers.csv", rows)
    batch = run(path)
    assert batch.status == "stored", batch.errors
    assert Helper.objects.count() == 2
    firsts = dict(Assignment.objects.values_list("helper__name", "household__household_no").filter(is_first=True))
    assert firsts == {"林志强": "R1"}
    assert Assignment.objects.count() == 3
    assert run(path).rows_unchanged == 3
    # a helper without ID number needs name and phone
    rows.append(["王五", "", "某单位", "", "", "R1", ""])
    batch = run(write_csv(tmp_path / "h2.csv", rows))
    assert errors_of(batch)[0][0] == 5


def test_measure_sheet_dates_in_every_spelling(tmp_path, household):
    rows = [
        ["户编号", "措施类型", "措施内容", "投入资金（元）", "责任人", "开始日期", "完成日期", "状态"],
        ["R1", "产业扶持", "发放鸡苗", "1,200", "林志强", "2018/3/5", "20181205", "已完成"],
        ["R1", "易地扶贫搬迁", "搬迁安置", "30000", "", dt.date(2017, 1, 2), 43439, "实施中"],
        ["R1", "健康扶贫", "医疗救助", "", "", "2018-02-30", "", ""],  # impossible date
        ["R1", "发钱", "生活补助", "", "", "", "", ""],  # not in the list
    ]
    batch = run(write_xlsx(tmp_path / "m.xlsx", {"措施": rows}))
    assert {(r, c) for r, c, _ in errors_of(batch)} == {(4, "开始日期"), (5, "措施类型")}
    assert not Measure.objects.exists()
    batch = run(write_xlsx(tmp_path / "m2.xlsx", {"措施": rows[:3]}))
    assert batch.status == "stored", batch.errors
    chicks = Measure.objects.get(content="发放鸡苗")
    assert (chicks.amount, chicks.start_date, chicks.end_date) == (
        Decimal("1200"),
        dt.date(2018, 3, 5),
        dt.date(2018, 12, 5),
    )
    moving = Measure.objects.get(content="搬迁安置")
    assert moving.measure_type == "造福工程搬迁" and moving.end_date == dt.date(2018, 12, 5)  # serial 43439
    assert run(write_xlsx(tmp_path / "m3.xlsx", {"措施": rows[:3]})).rows_unchanged == 2


def test_visit_sheet_links_the_assigned_helper(tmp_path, household):
    helper = f.make_helper(name="林志强")
    f.assign(helper, household)
    rows = [
        ["户编号", "帮扶责任人", "签到时间", "走访类型", "经度", "纬度", "扶贫手册是否填写", "挂钩帮扶手册是否填写",
         "满意度"],
        ["R1", "林志强", "2018-12-05 09:30", "节日慰问", "118.93", "25.86", "√", "×", "满意"],
        ["R1", "陌生人", "2018/12/6", "", "", "", "", "", ""],
    ]  # fmt: skip
    path = write_csv(tmp_path / "v.csv", rows)
    batch = run(path)
    assert batch.status == "stored", batch.errors
    visit = Visit.objects.get(helper_name="林志强")
    assert visit.helper == helper
    assert dt.datetime(2018, 12, 5, 9, 30) == visit.visited_at.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(
        tzinfo=None
    )
    assert (visit.poverty_handbook_filled, visit.assignment_handbook_filled) == (True, False)
    assert Visit.objects.get(helper_name="陌生人").helper is None
    assert run(path).rows_unchanged == 2


def test_dept_list_named_by_kind_fills_typed_columns_and_matches_members(tmp_path, household):
    member_id = household.members.get().id_number
    stranger = valid_id("350124", seq=3)
    rows = [
        ["序号", "姓名", "身份证号码", "低保类别", "保障金额（元/月）", "起始日期", "发放银行"],
        ["1", "王建华", member_id, "A类", "450", "2018-01-01", "农商行"],
        ["2", "外人", stranger, "B类", "300", "20180301", ""],
    ]
    path = write_csv(tmp_path / "低保.csv", rows)
    batch = run(path, kind="dibao")
    assert batch.status == "stored", batch.errors
    entry = DeptListEntry.objects.get(id_number=member_id)
    assert (entry.kind, entry.category, entry.amount, entry.start_date) == (
        "dibao",
        "A类",
        Decimal("450"),
        dt.date(2018, 1, 1),
    )
    assert entry.division_code == f.SONGKOU_VILLAGE
    assert entry.attributes["保障金额（元/月）"] == "450.00" and entry.attributes["发放银行"] == "农商行"
    assert DeptListEntry.objects.get(id_number=stranger).division_code == ""
    matches = dept_matches_for_household(household)
    assert [e.kind for e in matches[member_id]] == ["dibao"]
    assert run(path, kind="dibao").rows_unchanged == 2


def test_dept_list_kind_from_a_column_and_loan_status_codes(tmp_path, household):
    member_id = household.members.get().id_number
    rows = [
        ["名单类型", "证件号码", "姓名", "贷款金额（元）", "放款日期", "到期日期", "贷款状态", "参保年度"],
        ["扶贫小额信贷名单", member_id, "王建华", "50000", "2016-06-01", "2019-05-31", "逾期", ""],
        ["医保", member_id, "王建华", "", "", "", "", "2018"],
        ["loans", valid_id(seq=9), "某人", "10000", "", "", "欠着", ""],
    ]
    batch = run(write_csv(tmp_path / "名单.csv", rows))
    assert errors_of(batch) == [(4, "贷款状态", errors_of(batch)[0][2])]
    batch = run(write_csv(tmp_path / "名单2.csv", rows[:3]))
    assert batch.status == "stored", batch.errors
    loan = DeptListEntry.objects.get(kind="loans")
    assert (loan.amount, loan.start_date, loan.end_date, loan.status) == (
        Decimal("50000"),
        dt.date(2016, 6, 1),
        dt.date(2019, 5, 31),
        "逾期",
    )
    assert DeptListEntry.objects.get(kind="medical").year == 2018


def test_dept_list_without_a_kind_is_not_recognised(tmp_path):
    rows = [["证件号码", "姓名"], [valid_id(), "王建华"]]
    batch = run(write_csv(tmp_path / "名单.csv", rows))
    assert batch.status == "rejected"
    assert not DeptListEntry.objects.exists()


def test_dept_list_entry_of_a_person_in_another_scope_is_an_error(tmp_path):
    other = f.make_household(f.first_village(f.MINQING).code)
    person = f.make_member(other, id_number=valid_id("350124", seq=5))
    county = f.make_user(Role.COUNTY, f.YONGTAI)
    rows = [["证件号码", "姓名", "死亡日期"], [person.id_number, "张伟", "2018-10-01"]]
    batch = run(write_csv(tmp_path / "死亡.csv", rows), user=county, kind="deaths")
    assert errors_of(batch) == [(2, "证件号码", "此人登记在您管辖范围以外的户中")]
