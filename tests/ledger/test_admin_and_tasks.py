"""The admin (state read-only: changes go through the services) and the daily reminder command/task."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger.models import Notification, Problem
from tests.ledger.helpers import make_problem, rectified

pytestmark = pytest.mark.django_db


def test_admin_pages_open_and_state_is_read_only(client, world):
    problem = rectified(world.users[Role.TOWNSHIP], world.songkou)
    client.force_login(world.users[Role.ADMIN])
    for name in ("problem", "selfcheckitem", "townshipreport", "accountability", "notification"):
        assert client.get(reverse(f"admin:ledger_{name}_changelist")).status_code == 200, name
    page = client.get(reverse("admin:ledger_problem_change", args=[problem.pk])).content.decode()
    assert 'name="state"' not in page and 'name="version"' not in page
    assert 'name="description"' in page


def test_reminder_command_and_task(world):
    township, village = world.users[Role.TOWNSHIP], world.users[Role.VILLAGE]
    problem = make_problem(township, world.songkou, plan=True, responsible_user=village)
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.localdate() - timedelta(days=2))
    out = io.StringIO()
    call_command("ledger_reminders", stdout=out)
    assert "已发送 1 条提醒" in out.getvalue()
    note = Notification.objects.get(user=village, kind="due_soon")  # besides the "assigned" one
    assert "已超过整改时限 2 天" in note.message
    from lookback.ledger.tasks import send_due_reminders

    # The test settings run tasks at once; the same day's reminder is not sent twice.
    result = send_due_reminders.enqueue()
    assert result.return_value == 0


def test_self_check_items_carry_over_to_a_new_campaign():
    from lookback.ledger import services
    from lookback.ledger.models import SelfCheckItem
    from tests.ledger.helpers import campaign

    old = campaign()
    new = type(old).objects.create(
        code="fz2019",
        name="2019年回头看",
        reference_date=old.reference_date.replace(year=2019),
        visit_start=old.visit_start.replace(year=2019),
        visit_end=old.visit_end.replace(year=2019),
        report_deadline=old.report_deadline.replace(year=2020),
    )
    n = services.copy_self_check_items(source=old, target=new)
    assert n == SelfCheckItem.objects.filter(campaign=old).count() > 0
    assert services.copy_self_check_items(source=old, target=new) == 0
