"""The ledger's pages: the list with filters and bands, entry by hand, the detail page's actions with
their refusals (4xx, in Chinese, nothing changed), evidence downloads in and out of scope, bulk actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger import services
from lookback.ledger.models import Band, Evidence, Problem, State
from tests.ledger.helpers import make_problem, photo, png_bytes, rectified

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.force_login(user)
    return client


def test_list_shows_problems_in_scope_only(client, world):
    county = world.users[Role.COUNTY]
    mine = make_problem(world.users[Role.TOWNSHIP], world.songkou, description="嵩口的问题")
    other = make_problem(county, world.yongtai_other, description="别的乡镇的问题")
    response = _client(client, world.users[Role.TOWNSHIP]).get(reverse("ledger:problem_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "嵩口的问题" in body and f"#{mine.pk}" in body
    assert "别的乡镇的问题" not in body and world.yongtai_other.household_no not in body
    assert other.pk  # the county sees both
    body = _client(client, county).get(reverse("ledger:problem_list")).content.decode()
    assert "别的乡镇的问题" in body and "嵩口的问题" in body


def test_list_filters_by_band_state_and_responsible(client, world):
    township = world.users[Role.TOWNSHIP]
    today = timezone.localdate()
    overdue = make_problem(township, world.songkou, description="已超期", plan=True)
    Problem.objects.filter(pk=overdue.pk).update(deadline=today - timedelta(days=1))
    soon = make_problem(township, world.songkou, description="快到期", plan=True)
    Problem.objects.filter(pk=soon.pk).update(deadline=today + timedelta(days=3), responsible_person="林小明")
    later = make_problem(township, world.songkou, description="还早")
    Problem.objects.filter(pk=later.pk).update(deadline=today + timedelta(days=40))
    c = _client(client, township)
    url = reverse("ledger:problem_list")
    body = c.get(url, {"band": Band.OVERDUE}).content.decode()
    assert "已超期" in body and "快到期" not in body and "还早" not in body
    body = c.get(url, {"band": Band.DUE_10}).content.decode()
    assert "快到期" in body and "已超期" not in body
    body = c.get(url, {"band": Band.LATER}).content.decode()
    assert "还早" in body and "快到期" not in body
    body = c.get(url, {"responsible": "林小明"}).content.decode()
    assert "快到期" in body and "还早" not in body
    body = c.get(url, {"state": State.OPEN}).content.decode()
    assert "还早" in body and "已超期" not in body
    # Every row shows its band.
    body = c.get(url).content.decode()
    assert "超时限" in body and "≤10 天" in body and "&gt;20 天" in body


def test_bad_filter_is_a_400_with_a_message(client, world):
    c = _client(client, world.users[Role.TOWNSHIP])
    response = c.get(reverse("ledger:problem_list"), {"dimension": "9", "township": "350124101000"})
    assert response.status_code == 400
    assert "筛选条件有误" in response.content.decode()


def test_enter_a_problem_by_hand(client, world):
    c = _client(client, world.users[Role.VILLAGE])
    response = c.post(
        reverse("ledger:problem_create"),
        {
            "household_no": world.songkou.household_no,
            "source": "visit",
            "dimension": "5",
            "description": "户主不知道帮扶责任人是谁",
            "severity": "normal",
            "found_on": timezone.localdate().isoformat(),
        },
    )
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("ledger:problem_detail", args=[problem.pk])
    assert problem.household == world.songkou and problem.dimension == 5


def test_entry_form_errors_are_400_and_store_nothing(client, world):
    c = _client(client, world.users[Role.TOWNSHIP])
    response = c.post(
        reverse("ledger:problem_create"),
        {
            "household_no": world.yongtai_other.household_no,
            "source": "self_check",
            "dimension": "2",
            "description": "x",
            "severity": "normal",
            "found_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert "不在您的管辖范围内" in response.content.decode()
    assert not Problem.objects.exists()


def test_on_the_spot_entry_with_a_photo(client, world):
    c = _client(client, world.users[Role.TOWNSHIP])
    response = c.post(
        reverse("ledger:problem_create"),
        {
            "household_no": world.songkou.household_no,
            "source": "self_check",
            "dimension": "3",
            "description": "扶贫手册未填写收入",
            "severity": "normal",
            "found_on": timezone.localdate().isoformat(),
            "measures": "当场补填",
            "on_the_spot": "on",
            "evidence": [photo("手册.png")],
        },
    )
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert problem.state == State.AWAITING and problem.evidence.get().original_name == "手册.png"


def test_helper_cannot_reach_the_bulk_and_sees_only_own_households(client, world):
    make_problem(world.users[Role.TOWNSHIP], world.village_other, description="隔壁村的问题")
    make_problem(world.users[Role.TOWNSHIP], world.songkou, description="我帮扶的户")
    c = _client(client, world.users[Role.HELPER])
    body = c.get(reverse("ledger:problem_list")).content.decode()
    assert "我帮扶的户" in body and "隔壁村的问题" not in body
    assert c.post(reverse("ledger:problem_list"), {"items": ["1:1"]}).status_code == 403


def test_detail_actions_and_timeline(client, world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    problem = make_problem(township, world.songkou)
    c = _client(client, township)
    deadline = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = c.post(
        reverse("ledger:plan", args=[problem.pk]),
        {
            "version": 1,
            "measures": "补办",
            "responsible_unit": "嵩口镇",
            "responsible_person": "陈",
            "deadline": deadline,
        },
    )
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.state == State.IN_PROGRESS
    response = c.post(reverse("ledger:evidence_upload", args=[problem.pk]), {"file": photo()})
    assert response.status_code == 302
    response = c.post(reverse("ledger:rectify", args=[problem.pk]), {"version": problem.version})
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.state == State.AWAITING
    # The maker sees why they cannot verify; posting anyway is refused with 403.
    body = c.get(reverse("ledger:problem_detail", args=[problem.pk])).content.decode()
    assert "同一人不能既整改又核验" in body
    response = c.post(reverse("ledger:sign_off", args=[problem.pk]), {"version": problem.version})
    assert response.status_code == 403
    # The county returns without a reason: 400; with one: back to 整改中.
    c = _client(client, county)
    assert c.post(reverse("ledger:return", args=[problem.pk]), {"version": problem.version}).status_code == 400
    response = c.post(reverse("ledger:return", args=[problem.pk]), {"version": problem.version, "reason": "照片模糊"})
    assert response.status_code == 302
    body = c.get(reverse("ledger:problem_detail", args=[problem.pk])).content.decode()
    assert "照片模糊" in body and "退回" in body


def test_stale_page_gets_a_409_with_a_clear_message(client, world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou, plan=True)
    services.add_note(user=township, problem=problem, note="x")
    services.update_plan(
        user=world.users[Role.COUNTY],
        problem=problem,
        version=1,
        measures="县里的新措施",
        responsible_unit="嵩口镇",
        responsible_person="陈",
        deadline=problem.deadline,
    )
    c = _client(client, township)
    response = c.post(
        reverse("ledger:plan", args=[problem.pk]),
        {
            "version": 1,
            "measures": "乡镇的措施",
            "responsible_unit": "嵩口镇",
            "responsible_person": "陈",
            "deadline": problem.deadline.isoformat(),
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "已被他人修改" in body and "县里的新措施" in body  # the page shows the latest version
    assert Problem.objects.get(pk=problem.pk).measures == "县里的新措施"


def test_detail_out_of_scope_is_404(client, world):
    problem = make_problem(world.users[Role.COUNTY], world.yongtai_other)
    c = _client(client, world.users[Role.TOWNSHIP])
    assert c.get(reverse("ledger:problem_detail", args=[problem.pk])).status_code == 404
    assert c.post(reverse("ledger:sign_off", args=[problem.pk]), {"version": 1}).status_code == 404


def test_evidence_download_is_scoped(client, world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    evidence = services.add_evidence(user=township, problem=problem, upload=photo("现场.png"))
    url = reverse("ledger:evidence_download", args=[evidence.pk])
    response = _client(client, township).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Type"] == "image/png" and "no-store" in response["Cache-Control"]
    # Out of scope: another township's officer, and the helper's neighbour household's problem.
    outsider = world.users[Role.COUNTY].__class__.objects.create_user(
        username="other-township", password="x" * 12, role=Role.TOWNSHIP, scope=world.yongtai_other.village.parent
    )
    assert _client(client, outsider).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    # The file lives under the data folder with a random name, never under a public URL.
    assert not evidence.file.url.endswith("现场.png")


def test_evidence_download_for_helpers_follows_assignment(client, world):
    township = world.users[Role.TOWNSHIP]
    theirs = make_problem(township, world.songkou)
    not_theirs = make_problem(township, world.village_other)
    e1 = services.add_evidence(user=township, problem=theirs, upload=photo())
    e2 = services.add_evidence(user=township, problem=not_theirs, upload=photo())
    c = _client(client, world.users[Role.HELPER])
    assert c.get(reverse("ledger:evidence_download", args=[e1.pk])).status_code == 200
    assert c.get(reverse("ledger:evidence_download", args=[e2.pk])).status_code == 404


def test_bad_evidence_upload_is_400(client, world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("a.png", b"<script>alert(1)</script>", content_type="image/png")
    response = _client(client, township).post(reverse("ledger:evidence_upload", args=[problem.pk]), {"file": fake})
    assert response.status_code == 400
    assert "内容与扩展名" in response.content.decode()
    assert not Evidence.objects.exists()


def test_bulk_action_from_the_list(client, world):
    township = world.users[Role.TOWNSHIP]
    a = make_problem(township, world.songkou)
    b = make_problem(township, world.songkou)
    c = _client(client, township)
    deadline = (timezone.localdate() + timedelta(days=9)).isoformat()
    response = c.post(
        reverse("ledger:problem_list"),
        {"items": [f"{a.pk}:1", f"{b.pk}:1"], "deadline": deadline, "responsible_person": "王"},
    )
    assert response.status_code == 302
    assert Problem.objects.filter(responsible_person="王", deadline=deadline).count() == 2
    # Again with the old versions: 409, nothing changed.
    response = c.post(reverse("ledger:problem_list"), {"items": [f"{a.pk}:1"], "responsible_person": "李"})
    assert response.status_code == 409
    assert "已被他人修改" in response.content.decode()
    assert not Problem.objects.filter(responsible_person="李").exists()


def test_digest_lists_my_returned_and_due_problems(client, world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    returned = rectified(township, world.songkou, description="被退回的那个")
    services.return_problem(user=county, problem=returned, version=returned.version, reason="不清楚")
    due = make_problem(township, world.songkou, description="三天后到期", plan=True, responsible_user=township)
    Problem.objects.filter(pk=due.pk).update(deadline=timezone.localdate() + timedelta(days=3))
    body = _client(client, township).get(reverse("ledger:digest")).content.decode()
    assert "被退回的那个" in body and "三天后到期" in body
    assert f"问题 #{returned.pk} 被退回" in body


def test_due_reminders_are_sent_once_a_day(world):
    township = world.users[Role.TOWNSHIP]
    village = world.users[Role.VILLAGE]
    problem = make_problem(township, world.songkou, plan=True, responsible_user=village)
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.localdate() + timedelta(days=2))
    assert services.send_due_reminders() == 1
    assert services.send_due_reminders() == 0
    assert village.ledger_notifications.filter(kind="due_soon").count() == 1


def test_household_lookup_answers_only_inside_the_scope(client, world):
    c = _client(client, world.users[Role.TOWNSHIP])
    url = reverse("ledger:household_lookup")
    inside = c.get(url, {"household_no": world.songkou.household_no}).content.decode()
    assert "王建华" in inside
    outside = c.get(url, {"household_no": world.yongtai_other.household_no}).content.decode()
    assert "李明" not in outside and world.yongtai_other.household_no not in outside
    assert "不存在，或不在您的管辖范围内" in outside


def test_county_sees_counts_per_township(client, world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    make_problem(township, world.songkou)
    make_problem(township, world.village_other)
    late = make_problem(county, world.yongtai_other, plan=True)
    Problem.objects.filter(pk=late.pk).update(deadline=timezone.localdate() - timedelta(days=3))
    from lookback.ledger.selectors import ProblemFilters, summary_by_child_division

    rows = {r["name"]: r for r in summary_by_child_division(county, ProblemFilters())}
    assert rows["嵩口镇"]["total"] == 2 and rows["嵩口镇"]["states"][0] == 2 and rows["嵩口镇"]["overdue"] == 0
    other = world.yongtai_other.village.parent.name
    assert rows[other]["total"] == 1 and rows[other]["overdue"] == 1 and rows[other]["states"][1] == 1
    body = _client(client, county).get(reverse("ledger:problem_list")).content.decode()
    assert "按地区汇总" in body and f"township={f_code(world.songkou)}" in body


def f_code(household) -> str:
    return household.village.parent.code


# --- the member choice of the entry form ---------------------------------------------------------


def _entry(household_no: str, member: object = "") -> dict[str, object]:
    return {
        "household_no": household_no,
        "member": str(member),
        "source": "visit",
        "dimension": "2",
        "description": "成员未参加医疗叠加保险",
        "severity": "normal",
        "found_on": timezone.localdate().isoformat(),
    }


def test_household_lookup_offers_the_household_s_members_head_first(client, world):
    from tests import factories as f

    spouse = f.make_member(world.songkou, name="刘美兰", relation="配偶", sex="女")
    head = world.songkou.members.get(relation="户主")
    c = _client(client, world.users[Role.TOWNSHIP])
    body = c.get(reverse("ledger:household_lookup"), {"household_no": world.songkou.household_no}).content.decode()
    assert 'name="member"' in body
    assert body.index(f'value="{head.pk}"') < body.index(f'value="{spouse.pk}"')
    assert "刘美兰（配偶）" in body and head.id_number not in body
    # Asked again with a member already chosen (the field was left): the choice is kept.
    again = c.get(
        reverse("ledger:household_lookup"), {"household_no": world.songkou.household_no, "member": spouse.pk}
    ).content.decode()
    assert f'value="{spouse.pk}" selected' in again
    # A household outside the scope offers no members.
    outside = c.get(reverse("ledger:household_lookup"), {"household_no": world.yongtai_other.household_no})
    assert 'name="member"' not in outside.content.decode()


def test_enter_a_problem_about_one_member(client, world):
    from tests import factories as f

    spouse = f.make_member(world.songkou, name="刘美兰", relation="配偶", sex="女")
    c = _client(client, world.users[Role.VILLAGE])
    response = c.post(reverse("ledger:problem_create"), _entry(world.songkou.household_no, spouse.pk))
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert problem.household == world.songkou and problem.member == spouse
    assert "刘美兰" in c.get(reverse("ledger:problem_detail", args=[problem.pk])).content.decode()


@pytest.mark.parametrize("case", ["other-household", "out-of-scope", "no-household", "not-a-number"])
def test_a_member_must_belong_to_the_household_and_the_scope(client, world, case):
    from tests import factories as f

    other = f.make_member(world.village_other, name="陈小兵", relation="之子")
    foreign = world.yongtai_other.members.first()
    household_no, member, message = {
        "other-household": (world.songkou.household_no, other.pk, "不属于户编号"),
        "out-of-scope": (world.songkou.household_no, foreign.pk, "不属于户编号"),
        "no-household": ("", other.pk, "请先填写户编号"),
        "not-a-number": (world.songkou.household_no, "1 OR 1=1", "不属于户编号"),
    }[case]
    c = _client(client, world.users[Role.TOWNSHIP])
    response = c.post(reverse("ledger:problem_create"), _entry(household_no, member))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'id="member-errors"' in body
    assert not Problem.objects.exists()
    if household_no:  # the form comes back with the household's members to choose from again
        assert 'name="member"' in body and "陈小兵" not in body


def test_a_helper_chooses_only_among_own_households_members(client, world):
    helper = world.users[Role.HELPER]
    c = _client(client, helper)
    member = world.songkou.members.first()
    response = c.post(reverse("ledger:problem_create"), _entry(world.songkou.household_no, member.pk))
    assert response.status_code == 302 and Problem.objects.get().member == member
    stranger = world.village_other.members.first()
    refused = c.post(reverse("ledger:problem_create"), _entry(world.village_other.household_no, stranger.pk))
    assert refused.status_code == 400 and "不在您的管辖范围内" in refused.content.decode()
