"""The SQL ID-number check agrees with python-stdnum (bar the documented birth-year region rule)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent, ValidationError

from lookback.campaigns.models import Campaign
from lookback.checks.idcheck import ensure_regions, stdnum_regions
from lookback.checks.rules.accuracy import id_problem
from lookback.checks.sql import Ctx


def reference_valid(number: str) -> bool:
    """stdnum's verdict, except that a known region code is accepted whatever the birth year."""
    try:
        ric.validate(number)
        return True
    except InvalidComponent:
        try:
            ric.get_birth_date(number)
        except (InvalidComponent, ValueError):
            return False
        return number[:6] in set(stdnum_regions())
    except (ValidationError, KeyError):
        # KeyError: stdnum fails on a region whose province it knows but whose county it does not.
        return False


def with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


regions = st.sampled_from(["350125", "350102", "110101", "350124", "999999", "350199", "000000", "110103"])
dates = st.tuples(st.integers(1890, 2030), st.integers(0, 13), st.integers(0, 32)).map(
    lambda t: f"{t[0]:04d}{t[1]:02d}{t[2]:02d}"
)
bodies = st.builds(lambda r, d, s: r + d + f"{s:03d}", regions, dates, st.integers(0, 999))
numbers = st.one_of(
    bodies.map(with_check),
    st.builds(lambda b, c: b + c, bodies, st.sampled_from(list("0123456789Xx"))),
    # a character spoiled after the check digit was computed
    st.builds(
        lambda n, i, ch: n[:i] + ch + n[i + 1 :], bodies.map(with_check), st.integers(0, 16), st.sampled_from("AX ")
    ),
    st.text(alphabet="0123456789X", min_size=16, max_size=19),
)


@pytest.fixture
def sql_verdict(db):
    ensure_regions()
    ctx = Ctx(Campaign.objects.get(code="fz2018"))
    expression = id_problem(ctx, "%(n)s")

    def verdict(number: str) -> str | None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {expression}", {**ctx.params, "n": number})
            return cursor.fetchone()[0]

    return verdict


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=numbers)
def test_sql_matches_stdnum(sql_verdict, number: str) -> None:
    problem = sql_verdict(number)
    if len(number) == 15 and number.isdigit():
        assert problem is None  # the old format has a rule of its own
    else:
        assert (problem is None) == reference_valid(number), (number, problem)


def test_known_cases(sql_verdict) -> None:
    valid = with_check("35012519700501001")
    assert sql_verdict(valid) is None
    assert sql_verdict(with_check("35012519000229001")) == "证件号码中的出生日期无效"  # 1900 is no leap year
    assert sql_verdict(with_check("35012520000229001")) is None  # 2000 is
    assert sql_verdict(with_check("99999919700501001")) == "证件号码地区码无效"
    wrong = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    assert sql_verdict(wrong).startswith("证件号码校验码错误")
    assert sql_verdict("35012519700501") == "证件号码长度为 14 位"
    assert sql_verdict("") == "证件号码为空"
    assert sql_verdict(valid[:-1] + valid[-1].lower()) is None
    assert dt.date(1970, 5, 1) == ric.get_birth_date(valid)
