"""The HTTP API: schema and docs, authentication, filters, detail, scoping and masking like the pages."""

from __future__ import annotations

import pytest
import schemathesis

from lookback.accounts.roles import Role
from lookback.core.masking import mask_id_number, mask_phone
from lookback.registry.models import Household
from tests import factories as f
from tests.api.conftest import bearer


def _list(client, key: str, **params) -> list[dict]:
    response = client.get("/api/households/", params, **bearer(key))
    assert response.status_code == 200, response.content
    return response.json()["items"]


@pytest.mark.django_db
def test_openapi_schema_is_valid(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    raw = response.json()
    schemathesis.openapi.from_dict(raw).validate()  # against the OpenAPI meta-schema
    assert raw["info"]["title"] == "回头看 Lookback API"
    paths = raw["paths"]
    assert {"/api/households/", "/api/households/{household_id}", "/api/divisions/", "/api/divisions/{code}"} <= set(
        paths
    )
    # Every operation needs a login and documents the errors it can answer.
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("security"), f"{method.upper()} {path} has no security"
            assert "401" in operation["responses"], path
            if operation.get("parameters"):
                assert "422" in operation["responses"], path
    assert raw["components"]["schemas"]["ValidationErrorOut"]["required"] == ["detail", "errors"]
    schemes = raw["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}


@pytest.mark.django_db
def test_docs_page_renders_without_internet(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui-bundle.js" in body and "/static/ninja/" in body
    assert "cdn" not in body.lower()  # the intranet has no internet


@pytest.mark.django_db
def test_token_and_session_auth(client, world, tokens):
    assert client.get("/api/households/").status_code == 401
    assert client.get("/api/households/", **bearer(tokens[Role.TOWNSHIP])).status_code == 200
    client.force_login(world.users[Role.TOWNSHIP])
    response = client.get("/api/households/")
    assert response.status_code == 200 and response.json()["count"] == 2


@pytest.mark.django_db
def test_inactive_session_user_is_refused(client, world):
    user = world.users[Role.TOWNSHIP]
    client.force_login(user)
    user.is_active = False
    user.save()
    assert client.get("/api/households/").status_code == 401


@pytest.mark.django_db
def test_list_filters(client, world, tokens):
    key = tokens[Role.CITY]
    Household.objects.filter(pk=world.village_other.pk).update(
        attribute="低保脱贫户", exit_year=2016, main_cause="因病"
    )
    assert {h["head_name"] for h in _list(client, key, division=f.YONGTAI[:6])} == {"王建华", "陈秀英", "李明"}
    assert {h["head_name"] for h in _list(client, key, division=f.SONGKOU)} == {"王建华", "陈秀英"}
    assert {h["head_name"] for h in _list(client, key, attribute="低保脱贫户")} == {"陈秀英"}
    assert {h["head_name"] for h in _list(client, key, exit_year=2016)} == {"陈秀英"}
    assert {h["head_name"] for h in _list(client, key, cause="因病")} == {"陈秀英"}
    assert {h["head_name"] for h in _list(client, key, q="wjh")} == {"王建华"}
    assert {h["head_name"] for h in _list(client, key, q=world.minqing.household_no)} == {"张伟"}
    item = _list(client, key, q="zw")[0]
    assert item["county"] == "闽清县" and item["village"] == world.minqing.village.name
    assert item["division_code"] == world.minqing.division_code


@pytest.mark.django_db
def test_list_paginates(client, world, tokens):
    response = client.get("/api/households/", {"page": 1}, **bearer(tokens[Role.CITY]))
    body = response.json()
    assert body["count"] == 4 and len(body["items"]) == 4
    assert client.get("/api/households/", {"page": 2}, **bearer(tokens[Role.CITY])).json()["items"] == []


@pytest.mark.django_db
def test_detail_with_members_helpers_measures(client, world, tokens):
    f.make_member(world.songkou, name="刘桂英", relation="配偶", sex="女", id_number=f.id_number())
    response = client.get(f"/api/households/{world.songkou.pk}", **bearer(tokens[Role.TOWNSHIP]))
    assert response.status_code == 200
    body = response.json()
    assert body["household_no"] == world.songkou.household_no and body["township"] == "嵩口镇"
    assert [m["name"] for m in body["members"]] == ["王建华", "刘桂英"]
    assert body["helpers"] == [{"name": "林志强", "work_unit": "永泰县农业农村局", "is_first": True}]
    assert body["measures"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_scoping_is_the_same_as_the_pages(client, world, tokens, role):
    api_numbers = {h["household_no"] for h in _list(client, tokens[role])}
    client.force_login(world.users[role])
    page = client.get("/households/")
    page_numbers = {h.household_no for h in page.context["page"].object_list}
    assert api_numbers == page_numbers and api_numbers
    for household in Household.objects.all():
        status = client.get(f"/api/households/{household.pk}").status_code
        page_status = client.get(f"/households/{household.pk}/").status_code
        assert (status, page_status) in {(200, 200), (404, 404)}
        assert (status == 200) == (household.household_no in page_numbers)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "masked"), [(Role.REVIEWER, True), (Role.SUPERVISOR, True), (Role.TOWNSHIP, False)])
def test_masking_is_the_same_as_the_pages(client, world, tokens, role, masked):
    h = world.songkou
    item = next(i for i in _list(client, tokens[role]) if i["id"] == h.pk)
    detail = client.get(f"/api/households/{h.pk}", **bearer(tokens[role])).json()
    member = h.members.get()
    if masked:
        assert item["head_id_number"] == mask_id_number(h.head_id_number) == detail["head_id_number"]
        assert item["phone"] == mask_phone(h.phone) == "138****2345"
        assert detail["members"][0]["id_number"] == mask_id_number(member.id_number)
        assert detail["members"][0]["phone"] == mask_phone(member.phone)
    else:
        assert item["head_id_number"] == h.head_id_number == detail["head_id_number"]
        assert detail["members"][0]["id_number"] == member.id_number
    client.force_login(world.users[role])
    page = client.get(f"/households/{h.pk}/").content.decode()
    assert detail["head_id_number"] in page and detail["members"][0]["id_number"] in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"exit_year": "abc"}, "exit_year"),
        ({"exit_year": "99999"}, "exit_year"),
        ({"division": "闽清"}, "division"),
        ({"division": "3"}, "division"),
        ({"q": "王" * 41}, "q"),
        ({"page": "zzz"}, "page"),
        ({"page": "0"}, "page"),
        ({"attribute": "x" * 21}, "attribute"),
    ],
)
def test_bad_parameters_get_a_chinese_4xx(client, world, tokens, params, field):
    response = client.get("/api/households/", params, **bearer(tokens[Role.CITY]))
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["detail"] == "请求参数有误"
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["message"] == f"参数“{field}”的值无效"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["王\x00", "\x00"])
def test_nul_characters_are_refused(client, world, tokens, value):
    for param in ("q", "attribute", "cause"):
        response = client.get("/api/households/", {param: value}, **bearer(tokens[Role.CITY]))
        assert response.status_code == 422, (param, response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/households/999999999", "/api/divisions/999", "/api/divisions/" + "3" * 12])
def test_unknown_ids_are_404_in_chinese(client, world, tokens, url):
    response = client.get(url, **bearer(tokens[Role.CITY]))
    assert response.status_code == 404
    assert response.json()["detail"] in {
        "找不到该户，或它不在您的管辖范围内。",
        "找不到该行政区划，或它不在您的管辖范围内。",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/households/abc", "/api/households/-1", "/api/households/0", "/api/households/" + "9" * 25]
)
def test_malformed_ids_are_422_in_json(client, world, tokens, url):
    response = client.get(url, **bearer(tokens[Role.CITY]))
    assert response.status_code == 422 and response.json()["detail"] == "请求参数有误"


@pytest.mark.django_db
def test_unknown_api_urls_answer_in_json(client, world, tokens):
    response = client.get("/api/no-such-thing/", **bearer(tokens[Role.CITY]))
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["detail"] == "找不到该记录，或它不在您的管辖范围内。"
    # Pages keep the Chinese HTML page.
    client.force_login(world.users[Role.CITY])
    assert "找不到页面或记录" in client.get("/no-such-page/").content.decode()


@pytest.mark.django_db
def test_divisions(client, world, tokens):
    response = client.get("/api/divisions/", {"parent": f.SONGKOU}, **bearer(tokens[Role.TOWNSHIP]))
    items = response.json()["items"]
    assert items and all(d["parent_code"] == f.SONGKOU and d["level"] == "village" for d in items)
    county = client.get("/api/divisions/", {"level": "county"}, **bearer(tokens[Role.COUNTY])).json()["items"]
    assert [d["name"] for d in county] == ["永泰县"]
    assert client.get(f"/api/divisions/{f.MINQING}", **bearer(tokens[Role.COUNTY])).status_code == 404
    one = client.get(f"/api/divisions/{f.SONGKOU}", **bearer(tokens[Role.COUNTY])).json()
    assert one == {"code": f.SONGKOU, "name": "嵩口镇", "level": "township", "parent_code": f.YONGTAI}
    bad = client.get("/api/divisions/", {"level": "planet"}, **bearer(tokens[Role.COUNTY]))
    assert bad.status_code == 422 and bad.json()["detail"] == "请求参数有误"
