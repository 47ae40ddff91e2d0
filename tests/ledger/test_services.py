"""The ledger's rules, at the service level: every transition, maker-checker, optimistic locking, scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.ledger import services
from lookback.ledger.models import Action, Level, Notification, NotificationKind, Problem, Source, State
from lookback.ledger.services import ConflictError, LedgerError, NotAllowed
from tests import factories as f
from tests.ledger.helpers import make_problem, pdf, photo, rectified

pytestmark = pytest.mark.django_db


def test_create_records_the_finder_and_the_place(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    assert problem.state == State.OPEN
    assert problem.division_code == world.songkou.division_code
    assert problem.found_by == township
    assert problem.found_level == Level.TOWNSHIP
    assert problem.version == 1
    [entry] = problem.transitions.all()
    assert entry.action == Action.CREATE and entry.to_state == State.OPEN and entry.actor == township


def test_create_with_a_complete_plan_starts_in_progress(world):
    problem = make_problem(world.users[Role.TOWNSHIP], world.songkou, plan=True)
    assert problem.state == State.IN_PROGRESS
    assert [t.action for t in problem.transitions.all()] == [Action.CREATE, Action.PLAN]


def test_household_outside_scope_is_refused(world):
    with pytest.raises(LedgerError, match="不在您的管辖范围"):
        make_problem(world.users[Role.TOWNSHIP], world.yongtai_other)
    assert not Problem.objects.exists()


def test_rule_source_cannot_be_entered_by_hand(world):
    with pytest.raises(LedgerError, match="规则比对"):
        make_problem(world.users[Role.TOWNSHIP], world.songkou, source=Source.RULE)


def test_helper_enters_problems_only_on_own_households(world):
    helper = world.users[Role.HELPER]
    problem = make_problem(helper, world.songkou, source=Source.VISIT)
    assert problem.found_level == Level.VILLAGE
    with pytest.raises(LedgerError):
        make_problem(helper, world.village_other, source=Source.VISIT)
    with pytest.raises(LedgerError, match="须选择所帮扶的户"):
        services.create_problem(user=helper, source=Source.VISIT, dimension=5, description="x", division=helper.scope)


def test_supervisor_cannot_enter_problems(world):
    with pytest.raises(NotAllowed):
        make_problem(world.users[Role.SUPERVISOR], world.songkou)


def test_filling_the_plan_moves_to_in_progress_and_records_the_changes(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    deadline = timezone.localdate() + timedelta(days=20)
    services.update_plan(
        user=township,
        problem=problem,
        version=1,
        measures="补办参保",
        responsible_unit="嵩口镇",
        responsible_person="陈晓东",
        deadline=None,
    )
    problem.refresh_from_db()
    assert problem.state == State.OPEN  # incomplete plan: no deadline yet
    services.update_plan(
        user=township,
        problem=problem,
        version=problem.version,
        measures="补办参保",
        responsible_unit="嵩口镇",
        responsible_person="陈晓东",
        deadline=deadline,
    )
    problem.refresh_from_db()
    assert problem.state == State.IN_PROGRESS
    assert problem.version == 3
    plan = problem.transitions.get(action=Action.PLAN)
    assert plan.from_state == State.OPEN and plan.to_state == State.IN_PROGRESS
    assert plan.changes == {"deadline": ["", deadline.isoformat()]}
    assert problem.history.count() >= 3  # django-simple-history keeps each version


def test_in_progress_plan_cannot_be_emptied(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou, plan=True)
    with pytest.raises(LedgerError, match="不能为空"):
        services.update_plan(
            user=township,
            problem=problem,
            version=problem.version,
            measures="",
            responsible_unit="x",
            responsible_person="y",
            deadline=problem.deadline,
        )
    problem.refresh_from_db()
    assert problem.measures == "协助办理参保手续" and problem.version == 1


def test_marking_rectified_needs_evidence(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou, plan=True)
    with pytest.raises(LedgerError, match="佐证材料"):
        services.mark_rectified(user=township, problem=problem, version=problem.version)
    services.add_evidence(user=township, problem=problem, upload=pdf())
    problem.refresh_from_db()
    services.mark_rectified(user=township, problem=problem, version=problem.version, note="已补缴")
    problem.refresh_from_db()
    assert problem.state == State.AWAITING
    assert problem.rectified_by == township and problem.rectified_level == Level.TOWNSHIP


def test_marking_rectified_needs_a_plan(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    services.add_evidence(user=township, problem=problem, upload=photo())
    problem.refresh_from_db()
    with pytest.raises(LedgerError, match="整改中"):
        services.mark_rectified(user=township, problem=problem, version=problem.version)


def test_the_whole_path_and_its_timeline(world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    problem = rectified(township, world.songkou)
    services.return_problem(user=county, problem=problem, version=problem.version, reason="照片看不清参保凭证")
    problem.refresh_from_db()
    assert problem.state == State.IN_PROGRESS and problem.return_count == 1
    services.add_evidence(user=township, problem=problem, upload=pdf("参保凭证.pdf"))
    problem.refresh_from_db()
    services.mark_rectified(user=township, problem=problem, version=problem.version)
    problem.refresh_from_db()
    services.sign_off(user=county, problem=problem, version=problem.version, note="核验属实")
    problem.refresh_from_db()
    assert problem.state == State.CLOSED and problem.closed_by == county and problem.closed_at
    steps = [(t.action, t.from_state, t.to_state) for t in problem.transitions.all() if t.is_state_change]
    assert steps == [
        (Action.CREATE, "", State.OPEN),
        (Action.PLAN, State.OPEN, State.IN_PROGRESS),
        (Action.RECTIFY, State.IN_PROGRESS, State.AWAITING),
        (Action.RETURN, State.AWAITING, State.IN_PROGRESS),
        (Action.RECTIFY, State.IN_PROGRESS, State.AWAITING),
        (Action.SIGN_OFF, State.AWAITING, State.CLOSED),
    ]
    returned = problem.transitions.get(action=Action.RETURN)
    assert returned.actor == county and returned.note == "照片看不清参保凭证" and returned.actor_level == Level.COUNTY


def test_return_needs_a_reason(world):
    problem = rectified(world.users[Role.TOWNSHIP], world.songkou)
    with pytest.raises(LedgerError, match="退回原因"):
        services.return_problem(user=world.users[Role.COUNTY], problem=problem, version=problem.version, reason="  ")
    problem.refresh_from_db()
    assert problem.state == State.AWAITING


def test_return_tells_the_one_who_rectified(world):
    township = world.users[Role.TOWNSHIP]
    problem = rectified(township, world.songkou)
    services.return_problem(user=world.users[Role.COUNTY], problem=problem, version=problem.version, reason="缺凭证")
    note = Notification.objects.get(user=township)
    assert note.kind == NotificationKind.RETURNED and "缺凭证" in note.message


def test_maker_cannot_sign_off_own_rectification(world):
    township = world.users[Role.TOWNSHIP]
    problem = rectified(township, world.songkou)
    seen = problem.version
    with pytest.raises(NotAllowed, match="同一人"):
        services.sign_off(user=township, problem=problem, version=problem.version)
    with pytest.raises(NotAllowed, match="同一人"):
        services.return_problem(user=township, problem=problem, version=problem.version, reason="x")
    problem.refresh_from_db()
    assert problem.state == State.AWAITING and problem.version == seen  # the refused claim rolled back


def test_checker_must_be_same_level_or_higher(world):
    township = world.users[Role.TOWNSHIP]
    village = world.users[Role.VILLAGE]
    problem = rectified(township, world.songkou)
    with pytest.raises(NotAllowed, match="同级或上级"):
        services.sign_off(user=village, problem=problem, version=problem.version)
    # Another township officer of the same township is the same level: allowed.
    colleague = f.make_user(Role.TOWNSHIP, f.SONGKOU)
    services.sign_off(user=colleague, problem=problem, version=problem.version)
    assert Problem.objects.get(pk=problem.pk).state == State.CLOSED


def test_village_rectification_can_be_checked_by_another_village_user_or_higher(world):
    village = world.users[Role.VILLAGE]
    problem = rectified(village, world.songkou)
    assert problem.rectified_level == Level.VILLAGE
    other = f.make_user(Role.VILLAGE, f.SONGKOU_VILLAGE)
    services.return_problem(user=other, problem=problem, version=problem.version, reason="措施不具体")
    problem.refresh_from_db()
    services.mark_rectified(user=village, problem=problem, version=problem.version)
    problem.refresh_from_db()
    services.sign_off(user=world.users[Role.CITY], problem=problem, version=problem.version)
    assert Problem.objects.get(pk=problem.pk).state == State.CLOSED


def test_sign_off_only_from_awaiting(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou, plan=True)
    with pytest.raises(LedgerError, match="待核验"):
        services.sign_off(user=world.users[Role.COUNTY], problem=problem, version=problem.version)


def test_closed_problem_is_frozen(world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    problem = rectified(township, world.songkou)
    services.sign_off(user=county, problem=problem, version=problem.version)
    problem.refresh_from_db()
    with pytest.raises(LedgerError):
        services.update_plan(
            user=township,
            problem=problem,
            version=problem.version,
            measures="x",
            responsible_unit="x",
            responsible_person="x",
            deadline=problem.deadline,
        )
    with pytest.raises(LedgerError):
        services.add_evidence(user=township, problem=problem, upload=photo())
    with pytest.raises(LedgerError):
        services.add_note(user=township, problem=problem, note="x")


def test_on_the_spot_enters_rectified_and_still_needs_sign_off(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou, on_the_spot=True, measures="当场补登手册", evidence_files=[photo()])
    assert problem.state == State.AWAITING and problem.on_the_spot
    assert problem.evidence.count() == 1
    with pytest.raises(NotAllowed):
        services.sign_off(user=township, problem=problem, version=problem.version)
    services.sign_off(user=world.users[Role.COUNTY], problem=problem, version=problem.version)
    assert Problem.objects.get(pk=problem.pk).state == State.CLOSED


def test_on_the_spot_needs_evidence_and_measures(world):
    township = world.users[Role.TOWNSHIP]
    with pytest.raises(LedgerError, match="佐证材料"):
        make_problem(township, world.songkou, on_the_spot=True, measures="x")
    with pytest.raises(LedgerError, match="整改措施"):
        make_problem(township, world.songkou, on_the_spot=True, evidence_files=[photo()])
    assert not Problem.objects.exists()


# --- optimistic locking ---------------------------------------------------------------------------


def test_stale_version_is_a_conflict_and_changes_nothing(world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    problem = make_problem(township, world.songkou, plan=True)
    seen = problem.version
    services.update_plan(
        user=county,
        problem=Problem.objects.get(pk=problem.pk),
        version=seen,
        measures="县里改的措施",
        responsible_unit="嵩口镇",
        responsible_person="陈晓东",
        deadline=problem.deadline,
    )
    with pytest.raises(ConflictError, match="已被他人修改") as exc:
        services.update_plan(
            user=township,
            problem=problem,
            version=seen,
            measures="乡镇改的措施",
            responsible_unit="嵩口镇",
            responsible_person="陈晓东",
            deadline=problem.deadline,
        )
    assert exc.value.status == 409
    fresh = Problem.objects.get(pk=problem.pk)
    assert fresh.measures == "县里改的措施" and fresh.version == seen + 1
    assert fresh.transitions.filter(action=Action.PLAN_UPDATE).count() == 1


def test_state_changes_check_the_version_too(world):
    township = world.users[Role.TOWNSHIP]
    problem = rectified(township, world.songkou)
    with pytest.raises(ConflictError):
        services.sign_off(user=world.users[Role.COUNTY], problem=problem, version=problem.version - 1)
    assert Problem.objects.get(pk=problem.pk).state == State.AWAITING


def test_deleting_evidence_invalidates_an_older_page(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou, plan=True)
    evidence = services.add_evidence(user=township, problem=problem, upload=photo())
    seen = Problem.objects.get(pk=problem.pk).version
    services.delete_evidence(user=township, evidence=evidence)
    with pytest.raises(ConflictError):
        services.mark_rectified(user=township, problem=problem, version=seen)


# --- scope ----------------------------------------------------------------------------------------


def test_acting_outside_scope_is_refused(world):
    county = world.users[Role.COUNTY]
    problem = make_problem(county, world.yongtai_other, plan=True)
    township = world.users[Role.TOWNSHIP]  # 嵩口镇: the household is in another township
    with pytest.raises(NotAllowed, match="管辖范围"):
        services.add_evidence(user=township, problem=problem, upload=photo())
    with pytest.raises(NotAllowed, match="管辖范围"):
        services.update_plan(
            user=township,
            problem=problem,
            version=problem.version,
            measures="x",
            responsible_unit="x",
            responsible_person="x",
            deadline=problem.deadline,
        )


def test_read_only_roles_cannot_act(world):
    problem = rectified(world.users[Role.TOWNSHIP], world.songkou)
    for role in (Role.SUPERVISOR, Role.REVIEWER, Role.HELPER):
        with pytest.raises(NotAllowed):
            services.sign_off(user=world.users[role], problem=problem, version=problem.version)


# --- evidence files -------------------------------------------------------------------------------


def test_evidence_type_is_checked_by_content(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    fake = SimpleUploadedFile("照片.jpg", b"MZ\x90\x00 this is a program", content_type="image/jpeg")
    with pytest.raises(LedgerError, match="内容与扩展名"):
        services.add_evidence(user=township, problem=problem, upload=fake)
    exe = SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    with pytest.raises(LedgerError, match="不允许上传"):
        services.add_evidence(user=township, problem=problem, upload=exe)
    renamed_pdf = SimpleUploadedFile("表格.xlsx", pdf().read(), content_type="application/pdf")
    with pytest.raises(LedgerError, match="内容与扩展名"):
        services.add_evidence(user=township, problem=problem, upload=renamed_pdf)
    assert problem.evidence.count() == 0


def test_evidence_size_limit(world, settings):
    settings.LEDGER_EVIDENCE_MAX_BYTES = 1024 * 1024
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    big = SimpleUploadedFile("大.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1), content_type="application/pdf")
    with pytest.raises(LedgerError, match="不能超过 1 MB"):
        services.add_evidence(user=township, problem=problem, upload=big)


def test_evidence_is_stored_under_the_data_dir_with_a_random_name(world, settings):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    evidence = services.add_evidence(user=township, problem=problem, upload=photo("王建华家.png"))
    assert evidence.original_name == "王建华家.png"
    assert evidence.content_type == "image/png" and len(evidence.sha256) == 64
    assert "王建华" not in evidence.file.name and evidence.file.name.startswith("ledger/evidence/")
    assert evidence.file.path.startswith(str(settings.MEDIA_ROOT))


def test_failed_create_leaves_no_file_behind(world, settings, monkeypatch, tmp_path):
    # A folder of its own: other tests (other xdist workers) store files in the shared one meanwhile.
    settings.MEDIA_ROOT = tmp_path
    township = world.users[Role.TOWNSHIP]
    real_record = services._record

    def failing_record(problem, action, *args, **kwargs):
        if action == Action.RECTIFY:
            raise RuntimeError("database went away")
        return real_record(problem, action, *args, **kwargs)

    monkeypatch.setattr(services, "_record", failing_record)

    def files() -> set:
        return {p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()}

    before = files()
    with pytest.raises(RuntimeError):
        make_problem(township, world.songkou, on_the_spot=True, measures="x", evidence_files=[photo()])
    assert files() == before
    assert not Problem.objects.exists()


# --- bulk actions ---------------------------------------------------------------------------------


def test_bulk_assign_and_deadline(world):
    township = world.users[Role.TOWNSHIP]
    village = world.users[Role.VILLAGE]
    a = make_problem(township, world.songkou)
    b = make_problem(township, world.songkou)
    deadline = timezone.localdate() + timedelta(days=5)
    services.bulk_update(user=township, items=[(a.pk, a.version), (b.pk, b.version)], deadline=deadline)
    services.bulk_update(
        user=township,
        items=[(a.pk, 2), (b.pk, 2)],
        responsible_person="林村长",
        responsible_unit="嵩口居委会",
        responsible_user=village,
    )
    for p in Problem.objects.filter(pk__in=[a.pk, b.pk]):
        assert p.deadline == deadline and p.responsible_person == "林村长" and p.responsible_user == village
        assert p.version == 3
    assert Notification.objects.filter(user=village, kind=NotificationKind.ASSIGNED).count() == 2


def test_bulk_is_all_or_nothing(world):
    township = world.users[Role.TOWNSHIP]
    a = make_problem(township, world.songkou)
    b = make_problem(township, world.songkou)
    deadline = timezone.localdate() + timedelta(days=5)
    with pytest.raises(ConflictError, match=f"#{b.pk}"):
        services.bulk_update(user=township, items=[(a.pk, 1), (b.pk, 7)], deadline=deadline)
    assert not Problem.objects.filter(deadline=deadline).exists()
    assert Problem.objects.get(pk=a.pk).version == 1


def test_bulk_refuses_rows_outside_scope(world):
    county = world.users[Role.COUNTY]
    outside = make_problem(county, world.yongtai_other)
    with pytest.raises(NotAllowed, match=str(outside.pk)):
        services.bulk_update(user=world.users[Role.TOWNSHIP], items=[(outside.pk, 1)], deadline=timezone.localdate())


def test_village_cannot_bulk(world):
    problem = make_problem(world.users[Role.VILLAGE], world.songkou)
    with pytest.raises(NotAllowed):
        services.bulk_update(user=world.users[Role.VILLAGE], items=[(problem.pk, 1)], deadline=timezone.localdate())


def test_progress_notes_go_on_the_timeline(world):
    township = world.users[Role.TOWNSHIP]
    problem = make_problem(township, world.songkou)
    services.add_note(user=township, problem=problem, note="已联系医保站")
    assert problem.transitions.filter(action=Action.NOTE, note="已联系医保站").exists()
    assert Problem.objects.get(pk=problem.pk).version == 1
