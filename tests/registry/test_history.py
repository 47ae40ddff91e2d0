from decimal import Decimal

import pytest
from django.db import connection

from lookback.accounts.roles import Role
from lookback.registry.models import Household, ImportBatch, Member
from lookback.registry.selectors import household_history
from tests import factories as f


@pytest.mark.django_db
def test_history_lists_changed_fields_of_household_and_members():
    household = f.make_household(income_per_capita=Decimal("3000"))
    member = f.make_member(household)
    household.income_per_capita = Decimal("3500")
    household.save()
    member.health = "长期慢性病"
    member.save()

    entries = household_history(household)

    changes = [change for entry in entries for change in entry.changes]
    assert ("人均纯收入（元）", Decimal("3000.00"), Decimal("3500.00")) in changes
    assert ("健康状况", "健康", "长期慢性病") in changes
    # creations carry no field diff
    assert [e.changes for e in entries if e.history_type == "+"] == [[], []]


def _indexed_columns(table: str) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {tuple(info["columns"]) for info in found.values() if info["index"] and not info["primary_key"]}


@pytest.mark.django_db
def test_history_tables_keep_only_the_indexes_their_reads_use():
    """A first load builds every index of a million history rows again: only what the household page
    (a household's rows by id, its members' by household) and deleting a user read stays."""
    assert _indexed_columns(Household.history.model._meta.db_table) == {
        ("id",),
        ("history_date",),
        ("history_user_id",),
    }
    assert _indexed_columns(Member.history.model._meta.db_table) == {
        ("id",),
        ("history_date",),
        ("history_user_id",),
        ("household_id",),
    }


@pytest.mark.django_db
def test_batch_and_history_user_are_no_database_constraints_but_still_cleared_on_delete():
    """Neither is checked by the database for each imported row; Django still applies SET_NULL."""
    with connection.cursor() as cursor:
        member_keys = connection.introspection.get_constraints(cursor, Member._meta.db_table)
        history_keys = connection.introspection.get_constraints(cursor, Member.history.model._meta.db_table)
    assert not [c for c in member_keys.values() if c["foreign_key"] and c["columns"] == ["batch_id"]]
    assert not [c for c in history_keys.values() if c["foreign_key"]]

    user = f.make_user(Role.COUNTY, f.YONGTAI, "t-history")
    batch = ImportBatch.objects.create(created_by=user, file_name="a.xlsx", sha256="0" * 64)
    household = f.make_household()
    member = f.make_member(household)
    Member.objects.filter(pk=member.pk).update(batch=batch)
    member.refresh_from_db()
    member.health = "长期慢性病"
    member._history_user = user
    member.save()

    user_id = user.pk
    assert Member.history.filter(history_user_id=user_id).exists()
    batch.delete()
    user.delete()

    member.refresh_from_db()
    assert member.batch_id is None
    assert not Member.history.filter(history_user_id=user_id).exists()
    assert Member.history.filter(id=member.pk).count() == 2
