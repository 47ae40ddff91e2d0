from decimal import Decimal

import pytest

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
