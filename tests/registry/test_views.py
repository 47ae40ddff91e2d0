"""The household pages: list filters and search, pagination, the household page, masking, bad input."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lookback.accounts.roles import Role
from lookback.core.masking import mask_id_number, mask_phone
from lookback.registry.models import ArchiveCheck, DeptListEntry, Household, Measure, Visit
from tests import factories as f


def _get(client, world, role: str, url: str, **params):
    client.force_login(world.users[role])
    return client.get(url, params)


def _names(response) -> set[str]:
    return {h.head_name for h in response.context["page"].object_list}


# --- Filters -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_the_scope(client, world):
    assert _names(_get(client, world, Role.CITY, "/households/")) == {"王建华", "陈秀英", "李明", "张伟"}
    assert _names(_get(client, world, Role.COUNTY, "/households/")) == {"王建华", "陈秀英", "李明"}
    assert _names(_get(client, world, Role.TOWNSHIP, "/households/")) == {"王建华", "陈秀英"}
    assert _names(_get(client, world, Role.VILLAGE, "/households/")) == {"王建华"}
    assert _names(_get(client, world, Role.HELPER, "/households/")) == {"王建华"}


@pytest.mark.django_db
def test_division_filters(client, world):
    yongtai_other_township = world.yongtai_other.village.parent.code
    assert _names(_get(client, world, Role.CITY, "/households/", county=f.YONGTAI)) == {"王建华", "陈秀英", "李明"}
    assert _names(_get(client, world, Role.CITY, "/households/", county=f.MINQING)) == {"张伟"}
    response = _get(client, world, Role.CITY, "/households/", county=f.YONGTAI, township=f.SONGKOU)
    assert _names(response) == {"王建华", "陈秀英"}
    response = _get(client, world, Role.COUNTY, "/households/", township=yongtai_other_township)
    assert _names(response) == {"李明"}
    response = _get(
        client, world, Role.CITY, "/households/", county=f.YONGTAI, township=f.SONGKOU, village=f.SONGKOU_VILLAGE
    )
    assert _names(response) == {"王建华"}


@pytest.mark.django_db
def test_attribute_exit_year_and_cause_filters(client, world):
    Household.objects.filter(pk=world.village_other.pk).update(
        attribute="低保脱贫户", exit_year=2016, main_cause="因病"
    )
    url = "/households/"
    assert _names(_get(client, world, Role.COUNTY, url, attribute="低保脱贫户")) == {"陈秀英"}
    assert _names(_get(client, world, Role.COUNTY, url, exit_year="2016")) == {"陈秀英"}
    assert _names(_get(client, world, Role.COUNTY, url, exit_year="2017")) == {"王建华", "李明"}
    assert _names(_get(client, world, Role.COUNTY, url, cause="因病")) == {"陈秀英"}
    assert _names(_get(client, world, Role.COUNTY, url, cause="因病", exit_year="2017")) == set()
    body = _get(client, world, Role.COUNTY, url, cause="因病", exit_year="2017").content.decode()
    assert "没有符合条件的户。" in body


@pytest.mark.django_db
def test_cascade_selects_offer_only_the_scope(client, world):
    city = _get(client, world, Role.CITY, "/households/")
    counties = {d.name for d in city.context["divisions"]["counties"]}
    assert {"永泰县", "闽清县"} <= counties and city.context["divisions"]["townships"] == []
    # A county user starts at their townships; no county select.
    county = _get(client, world, Role.COUNTY, "/households/")
    assert county.context["divisions"]["counties"] == []
    townships = {d.name for d in county.context["divisions"]["townships"]}
    assert "嵩口镇" in townships and all(d.code.startswith("350125") for d in county.context["divisions"]["townships"])
    assert 'name="county"' not in county.content.decode()
    # After choosing a township its villages are offered (a filtered page keeps the cascade).
    chosen = _get(client, world, Role.COUNTY, "/households/", township=f.SONGKOU)
    villages = chosen.context["divisions"]["villages"]
    assert villages and all(d.code.startswith("350125101") for d in villages)
    # A village user has no division selects at all.
    assert 'name="township"' not in _get(client, world, Role.VILLAGE, "/households/").content.decode()


@pytest.mark.django_db
def test_htmx_options_endpoint(client, world):
    response = _get(client, world, Role.CITY, "/divisions/options/", parent=f.YONGTAI)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<option value="">全部</option>' in body and f'<option value="{f.SONGKOU}">嵩口镇</option>' in body
    villages = _get(client, world, Role.CITY, "/divisions/options/", parent=f.SONGKOU).content.decode()
    assert f'<option value="{f.SONGKOU_VILLAGE}">嵩口居委会</option>' in villages
    # Outside the scope → 404; empty parent → only "全部".
    assert _get(client, world, Role.TOWNSHIP, "/divisions/options/", parent=f.MINQING).status_code == 404
    empty = _get(client, world, Role.TOWNSHIP, "/divisions/options/", parent="")
    assert empty.status_code == 200 and empty.content.decode().count("<option") == 1


# --- Search --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("王建华", {"王建华"}),
        ("建华", {"王建华"}),
        ("wjh", {"王建华"}),
        ("WJH", {"王建华"}),
        ("wj", {"王建华"}),
        ("cxy", {"陈秀英"}),
        ("lm", {"李明"}),
        ("xyz", set()),
    ],
)
def test_search_by_name_and_pinyin_initials(client, world, q, expected):
    assert _names(_get(client, world, Role.COUNTY, "/households/", q=q)) == expected


@pytest.mark.django_db
def test_search_finds_a_members_name_and_initials(client, world):
    f.make_member(world.yongtai_other, name="周美玲", relation="配偶", sex="女", id_number=f.id_number())
    assert _names(_get(client, world, Role.COUNTY, "/households/", q="周美玲")) == {"李明"}
    assert _names(_get(client, world, Role.COUNTY, "/households/", q="zml")) == {"李明"}


@pytest.mark.django_db
def test_search_by_household_no_and_id_number(client, world):
    songkou = world.songkou
    assert _names(_get(client, world, Role.COUNTY, "/households/", q=songkou.household_no)) == {"王建华"}
    assert _names(_get(client, world, Role.COUNTY, "/households/", q=songkou.household_no.lower())) == {"王建华"}
    assert _names(_get(client, world, Role.COUNTY, "/households/", q=songkou.head_id_number)) == {"王建华"}
    member_id = f.id_number("350125", date(2005, 3, 9))
    f.make_member(world.village_other, name="陈小明", relation="之子", id_number=member_id)
    assert _names(_get(client, world, Role.COUNTY, "/households/", q=member_id)) == {"陈秀英"}
    # An ID number ending in X is found whatever case it is typed in.
    x_id = next(n for n in (f.id_number("350125", date(1980, 1, 1), s) for s in range(1000)) if n.endswith("X"))
    Household.objects.filter(pk=world.yongtai_other.pk).update(head_id_number=x_id)
    assert _names(_get(client, world, Role.COUNTY, "/households/", q=x_id.lower())) == {"李明"}


@pytest.mark.django_db
def test_search_stays_in_scope(client, world):
    # 张伟 lives in 闽清县: the county user of 永泰 cannot find him by any key.
    for q in ("张伟", "zw", world.minqing.household_no, world.minqing.head_id_number):
        assert _names(_get(client, world, Role.COUNTY, "/households/", q=q)) == set(), q


# --- Pagination ----------------------------------------------------------------------------------


def _bulk_households(village_code: str, n: int) -> None:
    village = f.division(village_code)
    Household.objects.bulk_create(
        Household(
            household_no=f"B{village_code}{i:05d}",
            village=village,
            division_code=village_code,
            head_name=f"测试{i}",
            head_id_number=f.id_number(village_code[:6], seq=i),
            size=2,
            attribute="一般脱贫户",
            exit_status="已脱贫（享受政策）",
            exit_year=2017,
            main_cause="缺技术",
        )
        for i in range(n)
    )


@pytest.mark.django_db
def test_pagination(client, world):
    _bulk_households(f.SONGKOU_VILLAGE, 118)  # + 王建华 = 119 in the village
    response = _get(client, world, Role.VILLAGE, "/households/")
    page = response.context["page"]
    assert page.paginator.count == 119 and page.paginator.num_pages == 3 and len(page.object_list) == 50
    body = response.content.decode()
    assert "共 119 户" in body and "第 1 / 3 页" in body and "page=2" in body
    last = _get(client, world, Role.VILLAGE, "/households/", page="3")
    assert len(last.context["page"].object_list) == 19
    # Beyond the end → the last page, not an error.
    assert _get(client, world, Role.VILLAGE, "/households/", page="99").context["page"].number == 3
    # The filters travel with the page links.
    filtered = _get(client, world, Role.COUNTY, "/households/", exit_year="2017", township=f.SONGKOU)
    assert "?exit_year=2017&township=350125101000&page=2" in html.unescape(filtered.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("n", [120, 600])
def test_list_queries_do_not_grow_with_the_table(client, world, django_assert_max_num_queries, n):
    _bulk_households(f.SONGKOU_VILLAGE, n)
    client.force_login(world.users[Role.CITY])
    # session + user, count, page, divisions for the selects, campaign: a fixed number whatever n is.
    with django_assert_max_num_queries(12):
        response = client.get("/households/", {"page": "2", "county": f.YONGTAI})
    assert response.status_code == 200 and len(response.context["page"].object_list) == 50


@pytest.mark.django_db
def test_detail_queries_are_bounded(client, world, django_assert_max_num_queries):
    household = world.songkou
    for i in range(8):
        member = f.make_member(household, name=f"王{i}", relation="之子", id_number=f.id_number())
        member.health = "长期慢性病"
        member.save()
    for income in range(3000, 3020):
        household.income_per_capita = Decimal(income)
        household.save()
    for day in range(1, 6):
        ArchiveCheck.objects.create(household=household, checked_on=date(2018, 11, day), present_items=["帮扶计划"])
    client.force_login(world.users[Role.TOWNSHIP])
    # Fixed: no query per member or per history entry (the history diff used to cost one query each),
    # nor per 一户一档 check (the campaign's item list and the checks are one query each).
    with django_assert_max_num_queries(18):
        assert client.get(f"/households/{household.pk}/").status_code == 200


# --- The household page --------------------------------------------------------------------------


@pytest.fixture
def full_household(world):
    h = world.songkou
    spouse = f.make_member(
        h, name="刘桂英", relation="配偶", sex="女", id_number=f.id_number("350125", date(1972, 2, 2))
    )
    Measure.objects.create(
        household=h,
        measure_type="产业扶持",
        content="种植油柰 5 亩",
        amount=Decimal("3000"),
        start_date=date(2018, 3, 1),
    )
    helper = h.assignments.get().helper
    Visit.objects.create(
        household=h,
        helper=helper,
        helper_name=helper.name,
        visited_at=datetime(2018, 12, 5, 2, 30, tzinfo=UTC),
        visit_type="填写扶贫手册",
        content="核对收入，填写手册",
        needs="希望参加电商培训",
        satisfaction="满意",
    )
    DeptListEntry.objects.create(kind="dibao", id_number=spouse.id_number, name="刘桂英", division_code=h.division_code)
    h.income_per_capita = Decimal("7200")
    h.save()
    return h


@pytest.mark.django_db
def test_detail_page_shows_everything(client, world, full_household):
    response = _get(client, world, Role.TOWNSHIP, f"/households/{full_household.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "王建华",
        full_household.household_no,
        "永泰县",
        "嵩口镇",
        "嵩口居委会",
        "刘桂英",  # member
        "配偶",
        "林志强",  # helper
        "第一帮扶责任人",
        "永泰县农业农村局",
        "产业扶持",  # measure
        "种植油柰 5 亩",
        "2018-12-05 10:30",  # visit, in Beijing time
        "希望参加电商培训",
        "低保名单",  # department-list match of the spouse
        "变更记录",
        "人均纯收入",
        "7,200",
    ):
        assert text in body, text


@pytest.mark.django_db
def test_detail_page_empty_sections(client, world):
    body = _get(client, world, Role.COUNTY, f"/households/{world.yongtai_other.pk}/").content.decode()
    for text in ("没有帮扶责任人。", "没有帮扶措施。", "没有走访记录。"):
        assert text in body


# --- Masking -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.SUPERVISOR])
def test_reviewer_and_supervisor_see_masked_numbers(client, world, full_household, role):
    h = full_household
    masked = mask_id_number(h.head_id_number)
    assert masked == h.head_id_number[:6] + "********" + h.head_id_number[-4:]
    for url in ("/households/", f"/households/{h.pk}/"):
        body = _get(client, world, role, url).content.decode()
        assert masked in body
        assert h.head_id_number not in body, url
        assert h.head_id_number[6:14] not in body  # the birth date is never shown
    body = _get(client, world, role, f"/households/{h.pk}/").content.decode()
    assert mask_phone(h.phone) == "138****2345" and "138****2345" in body and h.phone not in body
    assert "137****2345" in body and "13705912345" not in body  # the helper's phone
    for member in h.members.all():
        assert mask_id_number(member.id_number) in body and member.id_number not in body


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TOWNSHIP, Role.COUNTY, Role.VILLAGE, Role.HELPER])
def test_officers_see_full_numbers(client, world, full_household, role):
    h = full_household
    body = _get(client, world, role, f"/households/{h.pk}/").content.decode()
    assert h.head_id_number in body and h.phone in body and "13705912345" in body
    assert mask_id_number(h.head_id_number) not in body


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"exit_year": "abc"}, "脱贫年度："),
        ({"exit_year": "1999"}, "脱贫年度："),
        ({"county": "999"}, "所选地区不存在或不在您的管辖范围内。"),
        ({"county": f.MINQING}, "所选地区不存在或不在您的管辖范围内。"),  # outside 永泰
        ({"township": f.YONGTAI}, "所选地区不存在或不在您的管辖范围内。"),  # a county is not a township
        ({"village": "x" * 500}, "所选地区不存在或不在您的管辖范围内。"),
        ({"attribute": "富裕户"}, "贫困户属性："),
        ({"cause": "<script>"}, "主要致贫原因："),
        ({"q": "王" * 41}, "不超过 40 字符"),
        ({"q": "王\x00"}, "查找："),
        ({"page": "zzz"}, "页码："),
        ({"page": "-1"}, "页码："),
    ],
)
def test_bad_filters_give_chinese_message_and_400(client, world, params, message):
    response = _get(client, world, Role.COUNTY, "/households/", **params)
    assert response.status_code == 400
    body = response.content.decode()
    assert "筛选条件有误：" in body and message in body
    assert "<script>" not in body
    assert _names(response) == set()  # nothing is shown for a filter that cannot be applied


@pytest.mark.django_db
@pytest.mark.parametrize("pk", ["999999999", "9" * 30])
def test_unknown_household_is_a_chinese_404(client, world, pk):
    response = _get(client, world, Role.CITY, f"/households/{pk}/")
    assert response.status_code == 404
    assert "找不到页面或记录" in response.content.decode()


@pytest.mark.django_db
def test_non_numeric_household_url_is_404(client, world):
    assert _get(client, world, Role.CITY, "/households/abc/").status_code == 404


# --- Home page per role --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "heading", "households"),
    [
        (Role.CITY, "福州市 · 市扶贫办", 4),
        (Role.COUNTY, "福州市永泰县 · 县扶贫办", 3),
        (Role.TOWNSHIP, "福州市永泰县嵩口镇 · 乡镇扶贫专干", 2),
        (Role.VILLAGE, "福州市永泰县嵩口镇嵩口居委会 · 驻村工作队", 1),
        (Role.HELPER, "福州市永泰县嵩口镇 · 帮扶责任人", 1),
        (Role.REVIEWER, "福州市永泰县 · 复核/抽查组", 3),
        (Role.SUPERVISOR, "福州市 · 纪检/督查", 4),
        (Role.ADMIN, "全市 · 系统管理员", 4),
    ],
)
def test_home_page_per_role(client, world, role, heading, households):
    response = _get(client, world, role, "/")
    assert response.status_code == 200
    body = response.content.decode()
    assert heading in body
    assert response.context["summary"]["households"] == households
    assert ("我帮扶的户" in body) == (role == Role.HELPER)


@pytest.mark.django_db
def test_helper_home_lists_only_their_households(client, world):
    body = _get(client, world, Role.HELPER, "/").content.decode()
    assert "我帮扶的户" in body and world.songkou.household_no in body
    assert world.village_other.household_no not in body
    helper = world.users[Role.HELPER]
    helper.helper.assignments.all().delete()
    assert "您还没有挂钩帮扶的户。" in _get(client, world, Role.HELPER, "/").content.decode()
