"""A household that passes every rule, and small helpers to break it one way at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from lookback.registry.models import (
    ARCHIVE_ITEMS_DEFAULT,
    ArchiveCheck,
    DeptListEntry,
    Helper,
    Household,
    Measure,
    Member,
    NationalHousehold,
    NationalMember,
    NationalSnapshot,
    Visit,
)
from tests import factories as f


@dataclass
class Clean:
    household: Household
    head: Member
    helper: Helper

    def update(self, **fields: Any) -> None:
        Household.objects.filter(pk=self.household.pk).update(**fields)
        self.household.refresh_from_db()

    def update_head(self, **fields: Any) -> None:
        Member.objects.filter(pk=self.head.pk).update(**fields)
        self.head.refresh_from_db()

    def add_member(self, **fields: Any) -> Member:
        """A second member; keeps 家庭人口数 right."""
        defaults: dict[str, Any] = {
            "name": "王小红",
            "sex": "女",
            "relation": "配偶",
            "id_number": f.id_number(self.household.division_code[:6], dt.date(1972, 3, 4)),
            "education": "小学",
            "school_status": "非在校生",
            "work_status": "乡（镇）内务工",
            "work_months": Decimal("8"),
        }
        defaults.update(fields)
        member = f.make_member(self.household, **defaults)
        active = self.household.members.filter(status__in=["正常", ""]).count()
        self.update(size=active)
        return member

    def add_measure(self, **fields: Any) -> Measure:
        defaults: dict[str, Any] = {
            "household": self.household,
            "measure_type": "产业扶持",
            "content": "种植茶叶",
            "amount": Decimal("3000"),
            "responsible_person": "林志强",
            "start_date": dt.date(2018, 3, 1),
            "status": "实施中",
        }
        defaults.update(fields)
        return Measure.objects.create(**defaults)

    def add_visit(self, when: dt.datetime | dt.date, **fields: Any) -> Visit:
        if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
            when = dt.datetime.combine(when, dt.time(10, 0))
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        defaults: dict[str, Any] = {
            "household": self.household,
            "helper": self.helper,
            "helper_name": self.helper.name,
            "visited_at": when,
            "visit_type": "了解基本情况",
            "poverty_handbook_filled": True,
            "assignment_handbook_filled": True,
            "knows_helper": True,
            "satisfaction": "满意",
        }
        defaults.update(fields)
        return Visit.objects.create(**defaults)

    def add_archive_check(
        self, on: dt.date, missing: tuple[str, ...] = (), present: tuple[str, ...] | None = None
    ) -> ArchiveCheck:
        """A 一户一档 check on `on` that found every default item but `missing` (or exactly `present`)."""
        items = [i for i in ARCHIVE_ITEMS_DEFAULT if i not in missing] if present is None else list(present)
        return ArchiveCheck.objects.create(
            household=self.household, checked_on=on, checker_name="林志强", present_items=items
        )


def clean_household(village_code: str | None = None, **fields: Any) -> Clean:
    """One working adult, insured, with a skills-training measure for 缺技术, a first helper and four
    visits in the year before the reference date (2018-12-31), the last one in December."""
    household = f.make_household(
        village_code,
        income_per_capita=Decimal("9000"),
        wage_income=Decimal("9000"),
        house_grade="B级",
        renovation_status="无需改造",
        **fields,
    )
    head = f.make_member(
        household,
        id_number=household.head_id_number,
        education="初中",
        school_status="非在校生",
        work_status="乡（镇）内务工",
        work_months=Decimal("10"),
        is_dibao=False,
        is_tekun=False,
        has_employee_medical=False,
    )
    helper = f.make_helper(name="林志强")
    f.assign(helper, household)
    clean = Clean(household=household, head=head, helper=helper)
    clean.add_measure(measure_type="技能培训", content="电工培训")
    for day in (dt.date(2018, 3, 5), dt.date(2018, 6, 5), dt.date(2018, 9, 5), dt.date(2018, 12, 5)):
        clean.add_visit(day)
    return clean


def list_entry(kind: str, id_number: str | None = None, **fields: Any) -> DeptListEntry:
    """A department-list entry; without an ID number, someone outside the registry (the list is
    then "loaded" without touching anyone)."""
    defaults: dict[str, Any] = {
        "kind": kind,
        "id_number": id_number or f.id_number("350181", dt.date(1960, 1, 1)),
        "name": "名单人员",
    }
    defaults.update(fields)
    return DeptListEntry.objects.create(**defaults)


HOUSEHOLD_FIELDS = ("head_name", "head_id_number", "attribute", "exit_status", "main_cause")
MEMBER_FIELDS = ("name", "sex", "relation", "education", "school_status", "health", "labour_skill", "work_status")


def snapshot_of(households: list[Household], date: dt.date = dt.date(2018, 11, 30)) -> NationalSnapshot:
    """A national snapshot equal to the registry for these households."""
    snapshot = NationalSnapshot.objects.create(snapshot_date=date)
    for h in households:
        data: dict[str, Any] = {name: getattr(h, name) for name in HOUSEHOLD_FIELDS}
        data.update(
            size=h.size,
            exit_year=h.exit_year,
            income_per_capita=str(h.income_per_capita) if h.income_per_capita is not None else None,
        )
        NationalHousehold.objects.create(
            snapshot=snapshot, household_no=h.household_no, division_code=h.division_code, data=data
        )
        for m in h.members.all():
            mdata: dict[str, Any] = {name: getattr(m, name) for name in MEMBER_FIELDS}
            mdata.update(id_number=m.id_number, is_dibao=m.is_dibao, has_basic_medical=m.has_basic_medical)
            NationalMember.objects.create(
                snapshot=snapshot,
                household_no=h.household_no,
                member_no=m.member_no or "",
                id_number=m.id_number,
                division_code=h.division_code,
                data=mdata,
            )
    return snapshot
