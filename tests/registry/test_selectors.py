"""The registry's selectors: every read is scoped, whatever the filters ask for."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lookback.accounts.models import User
from lookback.accounts.roles import Role
from lookback.core import codes
from lookback.registry.models import Assignment, Member, Visit
from lookback.registry.selectors import (
    HouseholdFilters,
    filter_households,
    get_household,
    households_for_user,
    registry_summary,
)
from tests import factories as f
from tests.scoping_registry import ScopeWorld


@pytest.fixture
def sw(world) -> ScopeWorld:
    return ScopeWorld(world)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_households_for_user_is_exactly_the_scope(sw, role):
    assert set(households_for_user(sw.user(role))) == sw.visible(role)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_get_household_inside_and_outside(sw, role):
    user = sw.user(role)
    for household in sw.households:
        found = get_household(user, household.pk)
        assert (found is not None) == (household in sw.visible(role)), household


@pytest.mark.django_db
def test_users_without_scope_or_login_see_nothing(sw):
    from django.contrib.auth.models import AnonymousUser

    assert not households_for_user(AnonymousUser()).exists()
    assert not households_for_user(None).exists()
    scopeless = User.objects.create_user(username="noscope", password="x" * 12, role=Role.COUNTY)
    assert not households_for_user(scopeless).exists()
    helper_without_assignments = f.make_user(Role.HELPER, f.SONGKOU, "lonely-helper")
    assert not households_for_user(helper_without_assignments).exists()


@pytest.mark.django_db
def test_helper_with_two_assignments_sees_a_household_once(sw):
    helper_user = sw.user(Role.HELPER)
    second = f.make_helper(None, name="郑小红", id_number=f.id_number("350102"))
    f.assign(second, sw.world.songkou, is_first=False)
    assert list(households_for_user(helper_user)) == [sw.world.songkou]
    assert households_for_user(sw.user(Role.TOWNSHIP)).filter(pk=sw.world.songkou.pk).count() == 1


@pytest.mark.django_db
def test_related_rows_are_scoped_too(sw):
    from datetime import UTC, datetime

    Visit.objects.create(household=sw.world.minqing, helper_name="某人", visited_at=datetime(2018, 12, 3, tzinfo=UTC))
    county = sw.user(Role.COUNTY)
    assert not Visit.objects.in_scope(county).exists()
    assert set(Member.objects.in_scope(county).values_list("household__head_name", flat=True)) == {
        "王建华",
        "陈秀英",
        "李明",
        "黄丽芳",
    }
    assert Assignment.objects.in_scope(sw.user(Role.HELPER)).count() == 1
    assert Assignment.objects.in_scope(sw.user(Role.VILLAGE)).count() == 1
    assert not Assignment.objects.in_scope(sw.user(Role.COUNTY)).filter(household=sw.world.minqing).exists()


@pytest.mark.django_db
def test_summary_counts_the_scope(sw):
    assert registry_summary(sw.user(Role.TOWNSHIP)) == {
        "households": 3,
        "members": 3,
        "helpers_assigned": 1,
        "visits": 0,
    }
    assert registry_summary(sw.user(Role.HELPER))["households"] == 1


@pytest.mark.django_db
def test_search_conditions(sw):
    county = sw.user(Role.COUNTY)

    def names(q: str) -> set[str]:
        return set(filter_households(county, HouseholdFilters(q=q)).values_list("head_name", flat=True))

    assert names("hlf") == {"黄丽芳"}
    assert names("丽") == {"黄丽芳"}
    assert names(sw.world.songkou.household_no[:10]) >= {"王建华"}  # a 户编号 prefix
    assert names(sw.world.songkou.head_id_number[:17]) == {"王建华"}  # an ID number prefix
    assert names("   ") == names("")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "column", "index"),
    [
        ("registry_member", "id_number", "member_id_number"),
        ("registry_member", "name_initials", "member_name_initials"),
        ("registry_member", "member_no", "uniq_member_no"),
        ("registry_household", "head_id_number", "household_head_id_number"),
        ("registry_household", "head_name_initials", "household_head_initials"),
    ],
)
def test_a_searched_column_has_one_index_for_prefixes_and_equality(table, column, index):
    """PostgreSQL: one pattern_ops index serves the search's prefixes (LIKE 'x%') and the importer's and
    rules' equality lookups. `db_index`/`unique` built a second, plain one that a first load of 1M
    members had to build again too (3 of its 11 s of index builds)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("operator classes are PostgreSQL's; SQLite builds one index per column anyway")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s", [table, f"%({column}%"]
        )
        assert [name for (name,) in cursor.fetchall()] == [index]
        cursor.execute("SET LOCAL enable_seqscan = off")
        for condition in (f"{column} LIKE '3501%%'", f"{column} = '35012519800101123X'"):
            cursor.execute(f"EXPLAIN SELECT id FROM {table} WHERE {condition}")
            plan = " ".join(row for (row,) in cursor.fetchall())
            assert index in plan, (condition, plan)


# A division filter is only ever a prefix inside the scope: whatever is asked, nothing outside comes back.
filters = st.builds(
    HouseholdFilters,
    division=st.sampled_from(["", "35", "3501", "350124", "350125", "350125101", "350203", f.SONGKOU_VILLAGE]),
    attribute=st.sampled_from(["", *codes.HOUSEHOLD_ATTRIBUTE.labels]),
    exit_year=st.one_of(st.none(), st.integers(2014, 2020)),
    cause=st.sampled_from(["", "缺技术", "因病"]),
    q=st.one_of(st.just(""), st.text(alphabet="wjhzlmcxy王张李陈3501H", max_size=6)),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(filters=filters, role=st.sampled_from(list(Role)))
def test_filters_never_leave_the_scope(sw, filters, role):
    found = set(filter_households(sw.user(role), filters))
    assert found <= sw.visible(role)
