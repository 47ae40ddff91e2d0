"""Small builders for test data. Real division codes from the shipped table (migrations load it).

Places used across the suite:
- 永泰县 350125000000, 嵩口镇 350125101000, 嵩口居委会 350125101001 (inside the demo scopes)
- 闽清县 350124000000 and its villages (outside 永泰)
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from stdnum.cn import ric

from lookback.accounts.models import User
from lookback.accounts.roles import Role
from lookback.divisions.models import Division
from lookback.registry.models import Assignment, Helper, Household, Member

CITY = "350100000000"
YONGTAI = "350125000000"
SONGKOU = "350125101000"
SONGKOU_VILLAGE = "350125101001"
MINQING = "350124000000"

_seq = itertools.count(1)


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def first_village(township_or_county_code: str) -> Division:
    prefix = division(township_or_county_code).prefix
    return Division.objects.filter(level="village", code__startswith=prefix).order_by("code").first()


def id_number(region: str = "350125", born: date = date(1970, 5, 1), seq: int | None = None) -> str:
    """A valid 18-character resident ID number (correct check digit)."""
    n = next(_seq) if seq is None else seq
    body = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    # stdnum's calc_check_digit expects the number WITH a (placeholder) check digit.
    return body + ric.calc_check_digit(body + "0")


def make_user(role: str, scope_code: str | None = None, username: str | None = None, **extra: Any) -> User:
    user = User.objects.create_user(
        username=username or f"{role}-{next(_seq)}",
        password="lookback-test-pw",
        role=role,
        scope=division(scope_code) if scope_code else None,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
        **extra,
    )
    return user


def make_household(village_code: str | None = None, **fields: Any) -> Household:
    village = division(village_code) if village_code else first_village(SONGKOU)
    n = next(_seq)
    defaults: dict[str, Any] = {
        "household_no": f"H{village.code}{n:05d}",
        "village": village,
        "division_code": village.code,
        "head_name": "王建华",
        "head_id_number": id_number(village.code[:6]),
        "size": 1,
        "attribute": "一般脱贫户",
        "exit_status": "已脱贫（享受政策）",
        "exit_year": 2017,
        "main_cause": "缺技术",
        "income_per_capita": Decimal("6500"),
        "phone": "13805912345",
    }
    defaults.update(fields)
    return Household.objects.create(**defaults)


def make_member(household: Household, **fields: Any) -> Member:
    defaults: dict[str, Any] = {
        "household": household,
        "member_no": f"M{next(_seq):08d}",
        "name": household.head_name,
        "sex": "男",
        "id_number": household.head_id_number,
        "relation": "户主",
        "health": "健康",
        "labour_skill": "普通劳动力",
        "has_basic_medical": True,
        "has_serious_illness": True,
        "has_stacked_medical": True,
        "phone": "13905912345",
    }
    defaults.update(fields)
    return Member.objects.create(**defaults)


def make_helper(user: User | None = None, **fields: Any) -> Helper:
    defaults: dict[str, Any] = {
        "name": "林志强",
        "id_number": id_number("350102"),
        "work_unit": "永泰县农业农村局",
        "phone": "13705912345",
        "user": user,
    }
    defaults.update(fields)
    return Helper.objects.create(**defaults)


def assign(helper: Helper, household: Household, is_first: bool = True) -> Assignment:
    return Assignment.objects.create(helper=helper, household=household, is_first=is_first)
