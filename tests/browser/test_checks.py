"""In Chromium: a township officer runs the checks from the catalogue page, follows a rule's count to
its findings, opens one and reaches the household page."""

from __future__ import annotations

import re

import pytest

from lookback.accounts.roles import Role
from lookback.checks.models import CheckRun, Finding
from tests import factories as f
from tests.browser.conftest import login, screenshot
from tests.checks.builders import clean_household

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_run_checks_and_open_a_finding(page) -> None:
    f.make_user(Role.TOWNSHIP, f.SONGKOU, "b-township")
    bad = clean_household(f.SONGKOU_VILLAGE)
    bad.update_head(has_basic_medical=False)
    bad.update(size=3)

    login(page, "b-township")
    page.goto(page.base_url + "/checks/")
    page.click("#run-checks")
    page.wait_for_selector("#run-status[data-status='done']")
    run = CheckRun.objects.get()
    assert run.status == CheckRun.Status.DONE and run.scope_prefix == "350125101"
    assert page.locator("#stat-table tbody tr").count() == run.stats.count()
    screenshot(page, "checks-run")

    page.goto(page.base_url + "/checks/")
    row = page.locator("#rule-R2-03")
    assert row.locator(".finding-count").inner_text() == "1"
    row.locator(".finding-count").click()
    page.wait_for_url(re.compile(r"/checks/findings/\?rule=R2-03"))
    page.locator("#finding-table .finding-link").first.click()
    page.wait_for_selector("#finding-detail")
    finding = Finding.objects.get(rule_code="R2-03")
    assert page.inner_text("#finding-detail") == finding.detail
    screenshot(page, "checks-finding")
    page.click("#household-link")
    page.wait_for_url(re.compile(rf"/households/{bad.household.pk}/"))
    assert bad.household.household_no in page.content()
