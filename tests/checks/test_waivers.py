"""Waivers: asked by the responsible level with reason and evidence, approved one level up, kept
across runs until the data changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from lookback.accounts.roles import Role
from lookback.campaigns.models import Campaign
from lookback.checks import services, signals
from lookback.checks.engine import run_checks
from lookback.checks.models import Finding, Waiver
from tests import factories as f
from tests.checks.builders import clean_household

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def setup(db):
    campaign = Campaign.objects.get(code="fz2018")
    bad = clean_household(f.SONGKOU_VILLAGE)
    bad.update_head(has_basic_medical=False)
    run_checks(campaign=campaign, rule_codes=["R2-03"])
    users = {
        "township": f.make_user(Role.TOWNSHIP, f.SONGKOU),
        "county": f.make_user(Role.COUNTY, f.YONGTAI),
        "city": f.make_user(Role.CITY, f.CITY),
        "village": f.make_user(Role.VILLAGE, f.SONGKOU_VILLAGE),
        "other_county": f.make_user(Role.COUNTY, f.MINQING),
    }
    return campaign, bad, Finding.objects.get(rule_code="R2-03"), users


def test_township_asks_county_approves_and_runs_keep_it(setup, django_capture_on_commit_callbacks) -> None:
    campaign, bad, finding, users = setup
    upload = SimpleUploadedFile("参保证明.pdf", PDF, content_type="application/pdf")
    waiver = services.request_waiver(
        user=users["township"], finding=finding, reason="在浙江省参加城乡居民医保", evidence_file=upload
    )
    assert waiver.status == Waiver.Status.PENDING and waiver.fingerprint == finding.detail
    stored = Path(waiver.evidence_file.path)
    assert stored.is_file() and str(stored).startswith(str(settings.DATA_DIR))

    with pytest.raises(services.ChecksError):
        services.decide_waiver(user=users["township"], waiver=waiver, approve=True)
    with pytest.raises(services.ChecksError):
        services.decide_waiver(user=users["city"], waiver=waiver, approve=True)  # two levels up
    with pytest.raises(services.ChecksError):
        services.decide_waiver(user=users["other_county"], waiver=waiver, approve=True)  # out of scope

    got = []
    signals.finding_waived.connect(
        lambda sender, finding, waiver, **kw: got.append(finding.pk), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.decide_waiver(user=users["county"], waiver=waiver, approve=True, note="同意")
    finally:
        signals.finding_waived.disconnect(dispatch_uid="t")
    finding.refresh_from_db()
    assert finding.status == Finding.Status.WAIVED and got == [finding.pk]

    again = run_checks(campaign=campaign, rule_codes=["R2-03"])
    finding.refresh_from_db()
    assert finding.status == Finding.Status.WAIVED and again.reconciliation.writes == 0

    # Other data for the same subject: the waiver no longer covers it.
    bad.update_head(has_basic_medical=None)
    changed = run_checks(campaign=campaign, rule_codes=["R2-03"])
    finding.refresh_from_db()
    waiver.refresh_from_db()
    assert finding.status == Finding.Status.OPEN and finding.opened_run == changed.run
    assert waiver.status == Waiver.Status.LAPSED


def test_waived_finding_that_disappears_and_returns_unchanged_stays_waived(setup) -> None:
    campaign, bad, finding, users = setup
    waiver = services.request_waiver(user=users["township"], finding=finding, reason="外省参保", evidence_text="证明")
    services.decide_waiver(user=users["county"], waiver=waiver, approve=True)
    bad.update_head(has_basic_medical=True)
    run_checks(campaign=campaign, rule_codes=["R2-03"])
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.FIXED
    bad.update_head(has_basic_medical=False)
    run_checks(campaign=campaign, rule_codes=["R2-03"])
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.WAIVED


def test_county_asks_city_approves(setup) -> None:
    _campaign, _bad, finding, users = setup
    waiver = services.request_waiver(user=users["county"], finding=finding, reason="特殊情况说明", evidence_text="县文")
    with pytest.raises(services.ChecksError):
        services.decide_waiver(user=users["county"], waiver=waiver, approve=True)
    services.decide_waiver(user=users["city"], waiver=waiver, approve=False, note="理由不足")
    waiver.refresh_from_db()
    assert waiver.status == Waiver.Status.REJECTED and waiver.decided_by == users["city"]
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.OPEN


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reason": "短"}, "豁免理由"),
        ({"reason": "在外省参保了"}, "佐证"),
        ({"reason": "在外省参保了", "evidence_file": ("a.exe", b"MZ")}, "只接受"),
        ({"reason": "在外省参保了", "evidence_file": ("a.pdf", b"not a pdf at all")}, "不符"),
    ],
)
def test_bad_requests_are_refused(setup, kwargs, message) -> None:
    _campaign, _bad, finding, users = setup
    if "evidence_file" in kwargs:
        name, content = kwargs["evidence_file"]
        kwargs["evidence_file"] = SimpleUploadedFile(name, content)
    with pytest.raises(services.ChecksError, match=message):
        services.request_waiver(user=users["township"], finding=finding, **kwargs)
    assert not Waiver.objects.exists()


def test_only_township_and_county_ask_and_only_in_scope(setup) -> None:
    _campaign, _bad, finding, users = setup
    with pytest.raises(services.ChecksError):
        services.request_waiver(user=users["village"], finding=finding, reason="在外省参保了", evidence_text="x")
    with pytest.raises(services.ChecksError):
        services.request_waiver(user=users["other_county"], finding=finding, reason="在外省参保了", evidence_text="x")
    services.request_waiver(user=users["township"], finding=finding, reason="在外省参保了", evidence_text="x")
    with pytest.raises(services.ChecksError, match="待审批"):
        services.request_waiver(user=users["county"], finding=finding, reason="在外省参保了", evidence_text="x")


def test_approval_after_the_data_changed_lapses(setup) -> None:
    campaign, bad, finding, users = setup
    waiver = services.request_waiver(user=users["township"], finding=finding, reason="在外省参保了", evidence_text="x")
    bad.update_head(has_basic_medical=None)
    run_checks(campaign=campaign, rule_codes=["R2-03"])
    with pytest.raises(services.ChecksError, match="失效"):
        services.decide_waiver(user=users["county"], waiver=waiver, approve=True)
    waiver.refresh_from_db()
    assert waiver.status == Waiver.Status.LAPSED
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.OPEN
