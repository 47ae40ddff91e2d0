"""Pages, exports, API and commands of the checks app, scoped per role."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from lookback.accounts.roles import Role
from lookback.campaigns.models import Campaign
from lookback.checks.catalogue import all_rules
from lookback.checks.docs import markdown
from lookback.checks.engine import run_checks
from lookback.checks.exports import FIELDS
from lookback.checks.models import CheckRun, Finding, Waiver
from tests import factories as f
from tests.checks.builders import clean_household

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(world):
    """Households that trip R2-03 inside 嵩口镇 (one assigned to the world's helper) and in 闽清县."""
    campaign = Campaign.objects.get(code="fz2018")
    songkou = clean_household(f.SONGKOU_VILLAGE)
    songkou.update_head(has_basic_medical=False)
    minqing = clean_household(f.first_village(f.MINQING).code)
    minqing.update_head(has_basic_medical=False)
    world.songkou.members.update(has_basic_medical=False)
    run_checks(campaign=campaign, rule_codes=["R2-03", "R3-11"])
    return campaign, songkou, minqing


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


@pytest.mark.parametrize("role", [r for r in Role.values])
def test_every_page_answers_every_role(world, data, role: str) -> None:
    client = client_for(world, role)
    finding = Finding.objects.in_scope(world.users[role]).first()
    urls = [
        reverse("checks:catalogue"),
        reverse("checks:rule_detail", args=["R2-03"]),
        reverse("checks:finding_list"),
        reverse("checks:waiver_list"),
        reverse("checks:run_list"),
    ]
    if finding:
        urls.append(reverse("checks:finding_detail", args=[finding.pk]))
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_catalogue_lists_every_rule_with_scoped_counts(world, data) -> None:
    page = client_for(world, Role.TOWNSHIP).get(reverse("checks:catalogue")).content.decode()
    for rule in all_rules():
        assert f'id="rule-{rule.code}"' in page and str(rule.title) in page
    assert 'id="run-checks"' in page
    # 嵩口: the clean-built household and the world's one; 闽清 is out of scope.
    township_count = Finding.objects.in_scope(world.users[Role.TOWNSHIP]).filter(rule_code="R2-03").count()
    assert township_count == 2
    assert f'?rule=R2-03">{township_count}</a>' in page
    assert 'id="run-checks"' not in client_for(world, Role.REVIEWER).get(reverse("checks:catalogue")).content.decode()


def test_rule_detail_counts_per_county_and_township(world, data) -> None:
    response = client_for(world, Role.CITY).get(reverse("checks:rule_detail", args=["R2-03"]))
    breakdown = response.context["breakdown"]
    assert {row.name: row.open for row in breakdown["county"]} == {"永泰县": 2, "闽清县": 1}
    assert any(row.name == "嵩口镇" and row.open == 2 for row in breakdown["township"])
    assert client_for(world, Role.CITY).get(reverse("checks:rule_detail", args=["R9-99"])).status_code == 404


def test_finding_list_filters_and_scope(world, data) -> None:
    campaign, songkou, minqing = data
    city = client_for(world, Role.CITY)
    assert city.get(reverse("checks:finding_list")).context["page"].paginator.count == 3
    by_division = city.get(reverse("checks:finding_list"), {"division": "350124"})
    assert [f.household_id for f in by_division.context["page"]] == [minqing.household.pk]
    assert city.get(reverse("checks:finding_list"), {"rule": "R3-11"}).context["page"].paginator.count == 0
    assert city.get(reverse("checks:finding_list"), {"dimension": 3}).context["page"].paginator.count == 0
    assert city.get(reverse("checks:finding_list"), {"topic": "medical_insurance"}).context["page"].paginator.count == 3
    assert city.get(reverse("checks:finding_list"), {"status": "fixed"}).context["page"].paginator.count == 0

    township = client_for(world, Role.TOWNSHIP)
    assert township.get(reverse("checks:finding_list")).context["page"].paginator.count == 2
    refused = township.get(reverse("checks:finding_list"), {"division": "350124"})
    assert refused.status_code == 400 and "不在您的管辖范围内" in refused.content.decode()
    assert township.get(reverse("checks:finding_list"), {"dimension": "x"}).status_code == 400

    helper = client_for(world, Role.HELPER)
    mine = helper.get(reverse("checks:finding_list")).context["page"]
    assert [f.household_id for f in mine] == [world.songkou.pk]
    other = Finding.objects.get(household=minqing.household)
    assert helper.get(reverse("checks:finding_detail", args=[other.pk])).status_code == 404


def test_finding_detail_links_the_household(world, data) -> None:
    _campaign, songkou, _minqing = data
    finding = Finding.objects.get(household=songkou.household)
    page = client_for(world, Role.TOWNSHIP).get(reverse("checks:finding_detail", args=[finding.pk])).content.decode()
    assert reverse("registry:household_detail", args=[songkou.household.pk]) in page
    assert finding.detail in page and 'id="waiver-form"' in page


def test_exports_are_scoped_and_masked(world, data) -> None:
    township = client_for(world, Role.TOWNSHIP)
    response = township.get(reverse("checks:finding_export"), {"format": "jsonl"})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert len(lines) == 2 and set(FIELDS) <= set(lines[0])
    assert all(line["division_code"].startswith("350125101") for line in lines)
    assert lines[0]["id_number"] and "*" not in lines[0]["id_number"]

    reviewer = client_for(world, Role.REVIEWER)
    masked = b"".join(reviewer.get(reverse("checks:finding_export"), {"format": "csv"}).streaming_content)
    text = masked.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("规则,问题类别,维度,户编号")
    assert "********" in text

    xlsx = township.get(reverse("checks:finding_export"), {"format": "xlsx", "rule": "R2-03"})
    from python_calamine import CalamineWorkbook

    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(b"".join(xlsx.streaming_content))).get_sheet_by_index(0).to_python()
    )
    assert rows[0][0] == "规则" and len(rows) == 3 and rows[1][0] == "R2-03"

    assert township.get(reverse("checks:finding_export"), {"format": "pdf"}).status_code == 400
    assert township.get(reverse("checks:finding_export"), {"format": "csv", "division": "350124"}).status_code == 400


def test_run_button_runs_in_the_users_scope(world, data) -> None:
    _campaign, songkou, minqing = data
    songkou.update_head(has_basic_medical=True)
    minqing.update_head(has_basic_medical=True)
    response = client_for(world, Role.TOWNSHIP).post(reverse("checks:run_start"), {"campaign": "fz2018"})
    run = CheckRun.objects.filter(source="web").get()
    assert response.status_code == 302 and response["Location"] == reverse("checks:run_detail", args=[run.pk])
    assert run.status == CheckRun.Status.DONE and run.scope_prefix == "350125101" and run.started_by
    assert run.stats.count() == len(all_rules())
    assert Finding.objects.get(household=songkou.household, rule_code="R2-03").status == Finding.Status.FIXED
    assert Finding.objects.get(household=minqing.household, rule_code="R2-03").status == Finding.Status.OPEN
    detail = client_for(world, Role.TOWNSHIP).get(reverse("checks:run_detail", args=[run.pk]))
    assert 'data-status="done"' in detail.content.decode()
    progress = client_for(world, Role.TOWNSHIP).get(reverse("checks:run_progress", args=[run.pk]), {"reload": "1"})
    assert progress["HX-Refresh"] == "true"
    # Not a second one while one is queued or running.
    CheckRun.objects.filter(pk=run.pk).update(status=CheckRun.Status.RUNNING)
    again = client_for(world, Role.TOWNSHIP).post(reverse("checks:run_start"), {"campaign": "fz2018"}, follow=True)
    assert "已有一次检查" in again.content.decode()


def test_run_button_refused_without_the_capability(world, data) -> None:
    assert client_for(world, Role.REVIEWER).post(reverse("checks:run_start")).status_code == 403
    assert client_for(world, Role.REVIEWER).get(reverse("checks:run_start")).status_code == 405


def test_waiver_through_the_pages(world, data) -> None:
    _campaign, songkou, _minqing = data
    finding = Finding.objects.get(household=songkou.household)
    township = client_for(world, Role.TOWNSHIP)
    bad = township.post(reverse("checks:finding_detail", args=[finding.pk]), {"reason": "外省参保"})
    assert bad.status_code == 400 and "佐证" in bad.content.decode()
    ok = township.post(
        reverse("checks:finding_detail", args=[finding.pk]), {"reason": "在浙江省参保", "evidence_text": "参保证明"}
    )
    assert ok.status_code == 302
    waiver = Waiver.objects.get()
    county = client_for(world, Role.COUNTY)
    assert (
        reverse("checks:finding_detail", args=[finding.pk])
        in county.get(reverse("checks:waiver_list")).content.decode()
    )
    county.post(reverse("checks:waiver_decide", args=[waiver.pk]), {"decision": "approve", "note": "同意"})
    finding.refresh_from_db()
    assert finding.status == Finding.Status.WAIVED
    waived = client_for(world, Role.TOWNSHIP).get(reverse("checks:finding_list"), {"status": "waived"})
    assert [f.pk for f in waived.context["page"]] == [finding.pk]


def test_api(world, data) -> None:
    township = client_for(world, Role.TOWNSHIP)
    rules = township.get("/api/checks/rules").json()
    assert len(rules) == len(all_rules()) and next(r for r in rules if r["code"] == "R2-03")["open"] == 2
    page = township.get("/api/checks/findings", {"rule": "R2-03"}).json()
    assert page["count"] == 2 and set(FIELDS) - {"opened_on", "fixed_on"} <= set(page["items"][0]) | {"rule"}
    assert township.get("/api/checks/findings", {"division": "abc"}).status_code == 422
    other = Finding.objects.exclude(division_code__startswith="350125101").first()
    assert township.get(f"/api/checks/findings/{other.pk}").status_code == 404
    started = township.post("/api/checks/runs", {"rules": ["R2-03"]}, content_type="application/json")
    assert started.status_code == 202 and started.json()["status"] == "done"
    assert township.get(f"/api/checks/runs/{started.json()['id']}").json()["stats"][0]["rule_code"] == "R2-03"
    bad = township.post("/api/checks/runs", {"rules": ["R9-99"]}, content_type="application/json")
    assert bad.status_code == 400 and "R9-99" in bad.json()["detail"]
    refused = client_for(world, Role.REVIEWER).post("/api/checks/runs", {}, content_type="application/json")
    assert refused.status_code == 403


def test_check_and_findings_commands(world, data, tmp_path) -> None:
    out = io.StringIO()
    call_command("check", rules=["R2-03", "R3-11"], stdout=out)
    text = out.getvalue()
    assert "R2-03" in text and "medical_insurance" in text and "共 2 条规则" in text
    with pytest.raises(CommandError, match="R9-99"):
        call_command("check", rules=["R9-99"], stdout=io.StringIO())
    busy = CheckRun.objects.create(campaign=Campaign.objects.get(code="fz2018"), status=CheckRun.Status.RUNNING)
    with pytest.raises(CommandError, match="已有一次检查"):
        call_command("check", rules=["R2-03"], stdout=io.StringIO())
    call_command("check", rules=["R2-03"], force=True, stdout=io.StringIO())
    busy.delete()
    # Django's own system check still answers.
    system = io.StringIO()
    call_command("check", "--system", stdout=system)
    assert "System check identified no issues" in system.getvalue()

    out = io.StringIO()
    call_command("findings", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert first["rule"] == "R2-03" and first["topic"] == "medical_insurance" and first["dimension"] == 2
    assert len(first["division_code"]) == 12 and first["household_no"] and first["member_no"] and first["id_number"]
    assert first["clause"] == "二(二)" and first["detail"]

    target = tmp_path / "f.xlsx"
    call_command("findings", format="xlsx", output=str(target), stderr=io.StringIO())
    assert target.stat().st_size > 0
    with pytest.raises(CommandError):
        call_command("findings", format="xlsx")
    csv_target = tmp_path / "f.csv"
    call_command("findings", format="csv", output=str(csv_target), status="all", stderr=io.StringIO())
    assert len(csv_target.read_text(encoding="utf-8-sig").splitlines()) == 4


def test_docs_rules_md_is_generated_from_the_declarations() -> None:
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8") == markdown(), (
        "run: lookback rules --output docs/rules.md"
    )
