"""一户一档核查 on the household page: the service (who, where, what), the form and its errors, the page."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.campaigns.models import Campaign
from lookback.registry.models import ARCHIVE_ITEMS_DEFAULT, ArchiveCheck
from lookback.registry.selectors import required_archive_items
from lookback.registry.services import NotAllowed, RegistryError, record_archive_check

ITEMS = list(ARCHIVE_ITEMS_DEFAULT)
EDITORS = (Role.CITY, Role.COUNTY, Role.TOWNSHIP, Role.VILLAGE, Role.ADMIN)
READERS = (Role.HELPER, Role.REVIEWER, Role.SUPERVISOR)


def _url(household) -> str:
    return f"/households/{household.pk}/archive-checks/"


def _post(client, user, household, **data):
    client.force_login(user)
    payload = {"checked_on": "2018-12-05", "present_items": ITEMS[:8], "note": "户档盒在村部"}
    payload.update(data)
    return client.post(_url(household), payload)


def _text(response) -> str:
    return html.unescape(response.content.decode())


# --- the service -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_service_records_the_items_in_list_order_with_who_and_history(world):
    user = world.users[Role.VILLAGE]
    check = record_archive_check(
        user=user,
        household=world.songkou,
        checked_on=date(2018, 12, 5),
        present_items=["帮扶计划", "贫困户申请书", "帮扶计划"],
        note="  补办中  ",
    )
    check.refresh_from_db()
    assert check.present_items == ["贫困户申请书", "帮扶计划"]
    assert (check.checked_by, check.checker_name, check.note) == (user, user.display_name, "补办中")
    assert check.missing_items(ITEMS) == [i for i in ITEMS if i not in ("贫困户申请书", "帮扶计划")]
    [created] = check.history.all()
    assert created.history_type == "+" and created.history_user == user


@pytest.mark.django_db
@pytest.mark.parametrize("role", READERS)
def test_service_refuses_roles_that_may_not_edit_the_registry(world, role):
    with pytest.raises(NotAllowed):
        record_archive_check(
            user=world.users[role], household=world.songkou, checked_on=date(2018, 12, 5), present_items=ITEMS
        )
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
def test_service_refuses_a_household_outside_the_scope(world):
    with pytest.raises(NotAllowed):
        record_archive_check(
            user=world.users[Role.VILLAGE],
            household=world.village_other,
            checked_on=date(2018, 12, 5),
            present_items=[],
        )
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"checked_on": timezone.localdate() + timedelta(days=1)}, "checked_on", "不能晚于今天"),
        ({"checked_on": date(2013, 12, 31)}, "checked_on", "不能早于 2014 年"),
        ({"present_items": ["贫困户申请书", "户口本"]}, "present_items", "户口本"),
        ({"note": "很" * 501}, "note", "不能超过 500 个字"),
    ],
)
def test_service_refuses_bad_input_and_changes_nothing(world, changes, field, message):
    arguments = {"checked_on": date(2018, 12, 5), "present_items": ITEMS, "note": ""} | changes
    with pytest.raises(RegistryError) as caught:
        record_archive_check(user=world.users[Role.TOWNSHIP], household=world.songkou, **arguments)
    assert caught.value.field == field and message in caught.value.message
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
def test_required_items_follow_the_campaign():
    campaign = Campaign.objects.get(code="fz2018")
    assert required_archive_items(campaign) == ITEMS
    campaign.parameters = {**campaign.parameters, "archive_items": ["贫困户申请书", "帮扶计划"]}
    campaign.save()
    assert required_archive_items() == ["贫困户申请书", "帮扶计划"]
    campaign.parameters = {**campaign.parameters, "archive_items": "not a list"}
    campaign.save()
    assert required_archive_items() == ITEMS


# --- the page ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", EDITORS)
def test_editors_record_a_check_from_the_household_page(client, world, role):
    response = _post(client, world.users[role], world.songkou)
    assert response.status_code == 302
    check = ArchiveCheck.objects.get()
    assert response["Location"] == f"/households/{world.songkou.pk}/?saved={check.pk}#archive"
    assert check.household == world.songkou and check.checked_on == date(2018, 12, 5)
    assert check.present_items == ITEMS[:8] and check.checked_by == world.users[role]

    page = _text(client.get(response["Location"]))
    latest = page[page.index('id="archive-saved"') : page.index('id="archive-form"')]
    assert "核查结果已保存。" in latest and "最近一次核查 2018-12-05" in latest and "户档盒在村部" in latest
    assert "缺少 2 项" in latest and "脱贫退出确认书" in latest and "退出公示公告" in latest
    # Without the marker (a later visit), or naming another check, no "saved" notice.
    assert 'id="archive-saved"' not in _text(client.get(f"/households/{world.songkou.pk}/"))
    assert 'id="archive-saved"' not in _text(client.get(f"/households/{world.songkou.pk}/?saved=x{check.pk}"))


@pytest.mark.django_db
def test_the_page_shows_the_latest_check_and_the_history(client, world):
    user = world.users[Role.TOWNSHIP]
    record_archive_check(user=user, household=world.songkou, checked_on=date(2018, 11, 1), present_items=ITEMS[:5])
    record_archive_check(user=user, household=world.songkou, checked_on=date(2018, 12, 1), present_items=ITEMS)
    client.force_login(user)
    page = _text(client.get(f"/households/{world.songkou.pk}/"))
    latest = page[page.index('id="archive-latest"') : page.index('id="archive-history"')]
    assert "2018-12-01" in latest and "材料齐全" in latest and "缺少" not in latest
    history = page[page.index('id="archive-history"') :]
    assert history.index("2018-12-01") < history.index("2018-11-01")
    assert "、".join(ITEMS[5:]) in history
    assert 'id="archive-form"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", READERS)
def test_helpers_reviewers_and_supervisors_see_the_checks_but_cannot_record(client, world, role):
    record_archive_check(
        user=world.users[Role.VILLAGE], household=world.songkou, checked_on=date(2018, 12, 1), present_items=ITEMS[1:]
    )
    client.force_login(world.users[role])
    page = _text(client.get(f"/households/{world.songkou.pk}/"))
    assert "缺少：" in page and "贫困户申请书" in page
    assert 'id="archive-form"' not in page

    response = _post(client, world.users[role], world.songkou)
    assert response.status_code == 403
    assert ArchiveCheck.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "household"),
    [
        (Role.VILLAGE, "village_other"),
        (Role.TOWNSHIP, "yongtai_other"),
        (Role.COUNTY, "minqing"),
        (Role.HELPER, "village_other"),
    ],
)
def test_a_household_outside_the_scope_is_not_found(client, world, role, household):
    response = _post(client, world.users[role], getattr(world, household))
    assert response.status_code == 404
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"checked_on": ""}, "请填写核查日期。"),
        ({"checked_on": "2018-13-40"}, "核查日期格式不对"),
        ({"checked_on": (timezone.localdate() + timedelta(days=3)).isoformat()}, "核查日期不能晚于今天。"),
        ({"checked_on": "1918-12-05"}, "核查日期不能早于 2014 年"),
        ({"present_items": ["贫困户申请书", "户口本"]}, "材料“户口本”不在本次活动的一户一档清单中"),
        ({"note": "很" * 600}, "备注不能超过 500 个字"),
    ],
)
def test_bad_input_gives_a_chinese_form_error_and_changes_nothing(client, world, data, message):
    response = _post(client, world.users[Role.VILLAGE], world.songkou, **data)
    assert response.status_code == 400
    page = _text(response)
    assert message in page
    assert 'id="archive-form"' in page and "王建华" in page  # the household page, with the form as typed
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
def test_the_form_keeps_what_was_typed(client, world):
    response = _post(client, world.users[Role.VILLAGE], world.songkou, checked_on="2018-13-40", note="待补")
    page = response.content.decode()
    assert 'value="2018-13-40"' in page and "待补" in page
    assert page.count("checked") >= 8


@pytest.mark.django_db
def test_only_post_records(client, world):
    client.force_login(world.users[Role.VILLAGE])
    assert client.get(_url(world.songkou)).status_code == 405
    assert not ArchiveCheck.objects.exists()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, world):
    response = client.post(_url(world.songkou), {"checked_on": "2018-12-05"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not ArchiveCheck.objects.exists()
