"""The ledger API: scoped like the pages, each state change its own operation with the same rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lookback.accounts.models import ApiToken
from lookback.accounts.roles import Role
from lookback.ledger.models import Problem, State
from tests.ledger.helpers import make_problem, png_bytes, rectified

pytestmark = pytest.mark.django_db
BASE = "/api/ledger"


def _auth(user) -> dict:
    _token, key = ApiToken.issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_list_is_scoped_and_filtered(client, world):
    mine = make_problem(world.users[Role.TOWNSHIP], world.songkou, description="本镇")
    make_problem(world.users[Role.COUNTY], world.yongtai_other, description="外镇")
    response = client.get(f"{BASE}/problems", **_auth(world.users[Role.TOWNSHIP]))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["id"] for i in items] == [mine.pk]
    assert items[0]["state"] == "open" and items[0]["band"] == "none"
    assert items[0]["household"]["household_no"] == world.songkou.household_no
    response = client.get(f"{BASE}/problems", {"state": "closed"}, **_auth(world.users[Role.COUNTY]))
    assert response.json()["items"] == []
    response = client.get(f"{BASE}/problems", {"dimension": 9}, **_auth(world.users[Role.COUNTY]))
    assert response.status_code == 422


def test_detail_out_of_scope_is_404(client, world):
    problem = make_problem(world.users[Role.COUNTY], world.yongtai_other)
    response = client.get(f"{BASE}/problems/{problem.pk}", **_auth(world.users[Role.TOWNSHIP]))
    assert response.status_code == 404 and "管辖范围" in response.json()["detail"]
    assert client.get(f"{BASE}/problems/{problem.pk}").status_code == 401


def test_the_whole_path_through_the_api(client, world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    t, c = _auth(township), _auth(county)
    response = client.post(
        f"{BASE}/problems",
        {
            "source": "self_check",
            "dimension": 2,
            "description": "未参加叠加保险",
            "household_no": world.songkou.household_no,
        },
        content_type="application/json",
        **t,
    )
    assert response.status_code == 201, response.content
    problem = response.json()
    pid, version = problem["id"], problem["version"]
    deadline = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.put(
        f"{BASE}/problems/{pid}/plan",
        {
            "version": version,
            "measures": "补办",
            "responsible_unit": "嵩口镇",
            "responsible_person": "陈",
            "deadline": deadline,
        },
        content_type="application/json",
        **t,
    )
    assert response.status_code == 200 and response.json()["state"] == "in_progress"
    version = response.json()["version"]
    # Rectify without evidence: 400 with the reason.
    response = client.post(f"{BASE}/problems/{pid}/rectify", {"version": version}, content_type="application/json", **t)
    assert response.status_code == 400 and "佐证材料" in response.json()["detail"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"{BASE}/problems/{pid}/evidence", {"file": SimpleUploadedFile("照片.png", png_bytes()), "note": "现场"}, **t
    )
    assert response.status_code == 201, response.content
    evidence = response.json()
    assert evidence["name"] == "照片.png" and evidence["content_type"] == "image/png"
    response = client.post(f"{BASE}/problems/{pid}/rectify", {"version": version}, content_type="application/json", **t)
    assert response.status_code == 200 and response.json()["state"] == "awaiting"
    version = response.json()["version"]
    # Maker-checker: the maker cannot sign off.
    response = client.post(
        f"{BASE}/problems/{pid}/sign-off", {"version": version}, content_type="application/json", **t
    )
    assert response.status_code == 403
    # A return needs a reason.
    response = client.post(
        f"{BASE}/problems/{pid}/return", {"version": version, "reason": " "}, content_type="application/json", **c
    )
    assert response.status_code == 400
    response = client.post(
        f"{BASE}/problems/{pid}/sign-off", {"version": version}, content_type="application/json", **c
    )
    assert response.status_code == 200 and response.json()["state"] == "closed"
    detail = client.get(f"{BASE}/problems/{pid}", **c).json()
    assert [e["action"] for e in detail["timeline"]] == ["create", "plan", "evidence", "rectify", "sign_off"]
    # The evidence download follows the scope.
    download = client.get(detail["evidence"][0]["download"], **c)
    assert download.status_code == 200 and b"".join(download.streaming_content) == png_bytes()
    other = _auth(
        world.users[Role.COUNTY].__class__.objects.create_user(
            username="minqing-county", password="x" * 12, role=Role.COUNTY, scope=world.minqing.village.parent.parent
        )
    )
    assert client.get(detail["evidence"][0]["download"], **other).status_code == 404


def test_stale_version_is_409(client, world):
    township = world.users[Role.TOWNSHIP]
    problem = rectified(township, world.songkou)
    response = client.post(
        f"{BASE}/problems/{problem.pk}/sign-off",
        {"version": problem.version - 1},
        content_type="application/json",
        **_auth(world.users[Role.COUNTY]),
    )
    assert response.status_code == 409 and "已被他人修改" in response.json()["detail"]
    assert Problem.objects.get(pk=problem.pk).state == State.AWAITING


def test_create_refuses_rule_source_and_foreign_households(client, world):
    t = _auth(world.users[Role.TOWNSHIP])
    response = client.post(
        f"{BASE}/problems", {"source": "rule", "dimension": 1, "description": "x"}, content_type="application/json", **t
    )
    assert response.status_code == 400
    response = client.post(
        f"{BASE}/problems",
        {"source": "self_check", "dimension": 1, "description": "x", "household_no": world.yongtai_other.household_no},
        content_type="application/json",
        **t,
    )
    assert response.status_code == 400
    response = client.post(
        f"{BASE}/problems",
        {"source": "self_check", "dimension": 1, "description": "x", "division_code": world.minqing.division_code},
        content_type="application/json",
        **t,
    )
    assert response.status_code == 400 and "管辖范围" in response.json()["detail"]
    assert not Problem.objects.exists()


def test_report_status(client, world):
    from lookback.ledger import services
    from tests.ledger.helpers import campaign

    township = world.users[Role.TOWNSHIP]
    report = services.start_report(user=township, campaign=campaign())
    services.submit_report(user=township, report=report, version=report.version)
    rows = client.get(f"{BASE}/reports", **_auth(world.users[Role.COUNTY])).json()
    songkou = next(r for r in rows if r["township"] == "嵩口镇")
    assert songkou["state"] == "submitted" and songkou["is_late"] and len(songkou["docx_sha256"]) == 64
    assert all(r["county"] == "永泰县" for r in rows)
    response = client.get(f"{BASE}/reports/{report.pk}", **_auth(world.users[Role.VILLAGE]))
    assert response.status_code == 404


def test_absurd_page_is_a_422_not_a_500(client, world):
    response = client.get(f"{BASE}/problems", {"page": 10**30}, **_auth(world.users[Role.CITY]))
    assert response.status_code == 422


def test_nul_characters_are_a_4xx_everywhere(client, world):
    t = _auth(world.users[Role.TOWNSHIP])
    for param in ("q", "responsible", "campaign"):
        assert client.get(f"{BASE}/problems", {param: "王\x00"}, **t).status_code == 422, param
    response = client.post(
        f"{BASE}/problems",
        {"source": "self_check", "dimension": 1, "description": "问题\x00"},
        content_type="application/json",
        **t,
    )
    assert response.status_code == 422
    client.force_login(world.users[Role.TOWNSHIP])
    assert client.get("/ledger/household-lookup/", {"household_no": "H\x00"}).status_code == 200
    assert client.get("/ledger/reports/", {"campaign": "fz\x002018"}).status_code == 200
    assert not Problem.objects.exists()


def test_a_filter_given_twice_is_422(client, world):
    t = _auth(world.users[Role.COUNTY])
    response = client.get(f"{BASE}/reports?campaign=fz2018&campaign=x", **t)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "campaign"
    assert client.get(f"{BASE}/problems?state=open&state=closed", **t).status_code == 422
