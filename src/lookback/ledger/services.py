"""Every change to the ledger. Pages, the API and the rule engine's signals all come through here, so the
rules hold whatever the entry point:

- states 待整改 → 整改中 (plan complete) → 待核验 (evidence attached, marked rectified) → 已销号 (verified),
  with 退回 back to 整改中 and a required reason;
- sign-off and return need a different user at the same or a higher level than the one who marked the
  problem rectified (maker-checker);
- every change of a problem is `UPDATE … SET version = version + 1 WHERE id = … AND version = n`
  (optimistic locking): the loser of two concurrent edits gets `ConflictError` and nothing is lost;
- every change is kept as a `ProblemTransition` (who, when, note) — the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from simple_history.utils import bulk_create_with_history

from lookback.campaigns.models import Campaign
from lookback.core.i18n import stored_text
from lookback.divisions.models import Division
from lookback.ledger import permissions as perms
from lookback.ledger.files import CheckedFile, UploadRejected, check_upload
from lookback.ledger.models import (
    Accountability,
    AccountabilityKind,
    Action,
    Dimension,
    Evidence,
    Level,
    Notification,
    NotificationKind,
    Problem,
    ProblemTransition,
    ReportEvent,
    ReportState,
    SelfCheckAnswer,
    SelfCheckItem,
    Severity,
    Source,
    State,
    TownshipReport,
    UnitLevel,
)
from lookback.registry.models import Household, Member

MAX_DESCRIPTION = 2000
PLAN_FIELDS = ("measures", "responsible_unit", "responsible_person", "responsible_user", "deadline")


class LedgerError(Exception):
    """A rule of the ledger said no. `message` is shown to the user as is (Chinese)."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(LedgerError):
    status = 403


class ConflictError(LedgerError):
    status = 409


def conflict_message(seen: int, current: int | None) -> str:
    return _(
        "该问题已被他人修改（您看到的是第 %(seen)s 版，现在是第 %(current)s 版），您的这次操作没有保存。"
        "请刷新页面，查看最新内容后再操作。"
    ) % {"seen": seen, "current": current if current is not None else "?"}


# --- helpers ---------------------------------------------------------------------------------------


def _require(condition: bool, message: str, *, field: str | None = None) -> None:
    if not condition:
        raise LedgerError(message, field=field)


def _ensure_can_work(user: Any) -> None:
    if not perms.can_work(user):
        raise NotAllowed(_("您的角色不能办理问题整改。"))


def _ensure_in_scope(user: Any, problem: Problem) -> None:
    if not Problem.objects.in_scope(user).filter(pk=problem.pk).exists():
        raise NotAllowed(_("该问题不存在，或不在您的管辖范围内。"))


def _claim(problem: Problem, version: int | None) -> Problem:
    """The optimistic lock: bump the version only if it is still the one the user saw, then reload.

    Must run inside `transaction.atomic()`: a rule broken after the claim rolls the bump back. On
    PostgreSQL a concurrent claim of the same row waits for this transaction and then finds the version
    changed (0 rows), so exactly one of two concurrent edits wins.
    """
    seen = problem.version if version is None else int(version)
    updated = Problem.objects.filter(pk=problem.pk, version=seen).update(version=F("version") + 1)
    if updated != 1:
        current = Problem.objects.filter(pk=problem.pk).values_list("version", flat=True).first()
        raise ConflictError(conflict_message(seen, current))
    fresh = Problem.objects.select_related("household", "campaign").get(pk=problem.pk)
    return fresh


def _record(
    problem: Problem,
    action: str,
    actor: Any,
    *,
    from_state: str | None = None,
    note: str = "",
    changes: dict | None = None,
) -> ProblemTransition:
    return ProblemTransition.objects.create(
        problem=problem,
        action=action,
        from_state=problem.state if from_state is None else from_state,
        to_state=problem.state,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_level=perms.user_level(actor) if actor is not None else Level.SYSTEM,
        note=note,
        changes=changes or {},
    )


def _save(problem: Problem) -> None:
    # `save()` rather than `update()`: django-simple-history records the new row version.
    problem.save()


def _sync_caller(target: Problem, fresh: Problem) -> None:
    """Let the caller's instance see the new state (views re-render from it)."""
    target.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})


def notify(
    *, user: Any, kind: str, message: str, problem: Problem | None = None, key: str = "", report: Any = None
) -> None:
    if user is None or not getattr(user, "pk", None):
        return
    try:
        with transaction.atomic():
            Notification.objects.create(
                user=user, kind=kind, message=message[:300], problem=problem, report=report, key=key
            )
    except IntegrityError:
        pass  # the same keyed reminder was already sent


def _clean_text(value: str | None, label: str, *, required: bool = False, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if "\x00" in text:  # PostgreSQL refuses NUL in text; say so instead of failing
        raise LedgerError(_("“%(label)s”含有不允许的控制字符。") % {"label": label}, field=label)
    if required and not text:
        raise LedgerError(_("请填写“%(label)s”。") % {"label": label}, field=label)
    if max_length and len(text) > max_length:
        raise LedgerError(_("“%(label)s”不能超过 %(n)d 个字。") % {"label": label, "n": max_length}, field=label)
    return text


def _check_responsible_user(user: Any, responsible_user: Any, division_code: str) -> None:
    if responsible_user is None:
        return
    prefix = getattr(responsible_user, "scope_prefix", None)
    acting = getattr(user, "scope_prefix", None) or ""
    ok = (
        responsible_user.is_active
        and perms.can_work(responsible_user)
        and prefix is not None
        and division_code.startswith(prefix)
        and (prefix.startswith(acting) or acting.startswith(prefix))
    )
    _require(ok, _("所选责任人账号不能负责该问题（不在该地区或不是办理人员）。"), field="responsible_user")


def _checked_files(files: Iterable[Any]) -> list[tuple[Any, CheckedFile]]:
    checked = []
    for upload in files:
        try:
            checked.append((upload, check_upload(upload)))
        except UploadRejected as exc:
            raise LedgerError(str(exc), field="evidence") from exc
    return checked


def _store_evidence(
    problem: Problem, user: Any, upload: Any, info: CheckedFile, stored: list[str], note: str = ""
) -> Evidence:
    evidence = Evidence(
        problem=problem,
        original_name=info.name,
        content_type=info.content_type,
        size=info.size,
        sha256=info.sha256,
        note=note[:200],
        uploaded_by=user,
    )
    upload.seek(0)
    evidence.file.save(info.name, File(upload, name=info.name), save=False)
    stored.append(evidence.file.name)
    evidence.save()
    return evidence


@contextmanager
def _delete_files_on_error(stored: list[str]) -> Iterator[None]:
    """Files are not transactional: delete what this call stored if its transaction did not commit."""
    try:
        yield
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


# --- creating problems -------------------------------------------------------------------------------


def default_found_level(user: Any, source: str) -> int:
    if source == Source.RULE:
        return Level.SYSTEM
    if source == Source.COUNTY_REVIEW:
        return Level.COUNTY
    if source == Source.CITY_SPOT_CHECK:
        return Level.CITY
    return max(perms.user_level(user), Level.VILLAGE)


def create_problem(
    *,
    user: Any,
    source: str,
    dimension: int,
    description: str,
    campaign: Campaign | None = None,
    division: Division | None = None,
    household: Household | None = None,
    member: Member | None = None,
    category: str = "",
    severity: str = Severity.NORMAL,
    found_on: date | None = None,
    measures: str = "",
    responsible_unit: str = "",
    responsible_person: str = "",
    responsible_user: Any = None,
    deadline: date | None = None,
    on_the_spot: bool = False,
    evidence_files: Sequence[Any] = (),
    note: str = "",
) -> Problem:
    """Enter a problem by hand (any source but rule). A 立行立改 problem comes in already rectified
    (measures and evidence required) and still needs someone else's sign-off."""
    if not perms.can_create(user):
        raise NotAllowed(_("您的角色不能登记问题。"))
    _require(source in Source.values, _("问题来源无效。"), field="source")
    _require(source != Source.RULE, _("“规则比对”的问题由系统根据比对结果自动登记，不能手工登记。"), field="source")
    _require(dimension in Dimension.values, _("维度必须是 1–6 之一。"), field="dimension")
    _require(severity in Severity.values, _("严重程度无效。"), field="severity")
    description = _clean_text(description, _("问题描述"), required=True, max_length=MAX_DESCRIPTION)
    category = _clean_text(category, _("问题类别"), max_length=100)
    campaign = campaign or Campaign.default()
    _require(campaign is not None, _("尚未设置回头看活动，请先由管理员建立活动。"))
    today = timezone.localdate()
    found_on = found_on or today
    _require(found_on <= today, _("发现日期不能晚于今天。"), field="found_on")
    if household is not None:
        _require(
            Household.objects.in_scope(user).filter(pk=household.pk).exists(),
            _("该户不存在，或不在您的管辖范围内。"),
            field="household",
        )
        division = household.village
        if member is not None:
            _require(member.household_id == household.pk, _("所选家庭成员不属于该户。"), field="member")
    else:
        _require(member is None, _("选择家庭成员前请先选择户。"), field="member")
        _require(not getattr(user, "is_helper", False), _("帮扶责任人登记问题时须选择所帮扶的户。"), field="household")
    _require(division is not None, _("请选择问题所在的村（或乡镇、县）。"), field="division")
    prefix = user.scope_prefix or ""
    _require(division.code.startswith(prefix), _("所选地区不在您的管辖范围内。"), field="division")
    measures = _clean_text(measures, _("整改措施"), max_length=MAX_DESCRIPTION)
    responsible_unit = _clean_text(responsible_unit, _("责任单位"), max_length=100)
    responsible_person = _clean_text(responsible_person, _("责任人"), max_length=50)
    if deadline is not None:
        _require(deadline >= found_on, _("整改时限不能早于发现日期。"), field="deadline")
    _check_responsible_user(user, responsible_user, division.code)
    files = _checked_files(evidence_files)
    if on_the_spot:
        _require(perms.can_work(user), _("您的角色不能登记“立行立改”问题。"), field="on_the_spot")
        _require(bool(measures), _("“立行立改”的问题请填写整改措施。"), field="measures")
        _require(bool(files), _("“立行立改”的问题请上传佐证材料。"), field="evidence")
    elif files:
        _require(perms.can_work(user), _("您的角色不能上传佐证材料。"), field="evidence")

    stored: list[str] = []
    with _delete_files_on_error(stored), transaction.atomic():
        problem = Problem.objects.create(
            campaign=campaign,
            source=source,
            dimension=dimension,
            category=category,
            description=description,
            severity=severity,
            division=division,
            division_code=division.code,
            household=household,
            member=member,
            found_by=user,
            found_on=found_on,
            found_level=default_found_level(user, source),
            measures=measures,
            responsible_unit=responsible_unit,
            responsible_person=responsible_person,
            responsible_user=responsible_user,
            deadline=deadline,
            on_the_spot=on_the_spot,
        )
        _record(problem, Action.CREATE, user, from_state="", note=note)
        for upload, info in files:
            evidence = _store_evidence(problem, user, upload, info, stored)
            _record(problem, Action.EVIDENCE, user, note=evidence.original_name)
        if on_the_spot:
            problem.state = State.AWAITING
            problem.rectified_by = user
            problem.rectified_level = perms.user_level(user)
            problem.rectified_at = timezone.now()
            _save(problem)
            _record(problem, Action.RECTIFY, user, from_state=State.OPEN, note=stored_text(gettext_noop("立行立改")))
        elif problem.plan_complete:
            problem.state = State.IN_PROGRESS
            _save(problem)
            _record(problem, Action.PLAN, user, from_state=State.OPEN)
        if responsible_user is not None and responsible_user.pk != user.pk:
            notify(
                user=responsible_user,
                kind=NotificationKind.ASSIGNED,
                problem=problem,
                message=stored_text(
                    gettext_noop("您被指定为问题 #%(id)s 的整改责任人：%(text)s"),
                    {"id": problem.pk, "text": description[:60]},
                ),
            )
    return problem


# --- the plan ----------------------------------------------------------------------------------------


def update_plan(
    *,
    user: Any,
    problem: Problem,
    version: int,
    measures: str,
    responsible_unit: str,
    responsible_person: str,
    deadline: date | None,
    responsible_user: Any = None,
    note: str = "",
) -> Problem:
    """Fill or change the rectification plan. A complete plan moves 待整改 to 整改中."""
    _ensure_can_work(user)
    _ensure_in_scope(user, problem)
    values = {
        "measures": _clean_text(measures, _("整改措施"), max_length=MAX_DESCRIPTION),
        "responsible_unit": _clean_text(responsible_unit, _("责任单位"), max_length=100),
        "responsible_person": _clean_text(responsible_person, _("责任人"), max_length=50),
        "deadline": deadline,
        "responsible_user": responsible_user,
    }
    with transaction.atomic():
        fresh = _claim(problem, version)
        _require(fresh.state != State.CLOSED, _("已销号的问题不能修改整改方案。"))
        _require(
            fresh.state != State.AWAITING,
            _("该问题已标记整改完成、正在等待核验，不能修改整改方案；如需修改，请核验人先退回。"),
        )
        if deadline is not None:
            _require(deadline >= fresh.found_on, _("整改时限不能早于发现日期。"), field="deadline")
        if responsible_user is not None and responsible_user.pk != fresh.responsible_user_id:
            _check_responsible_user(user, responsible_user, fresh.division_code)
        changes = _apply(fresh, values)
        from_state = fresh.state
        if fresh.state == State.IN_PROGRESS:
            _require(fresh.plan_complete, _("整改中的问题，整改措施、责任单位、责任人和整改时限都不能为空。"))
        if fresh.state == State.OPEN and fresh.plan_complete:
            fresh.state = State.IN_PROGRESS
        _save(fresh)
        action = Action.PLAN if from_state == State.OPEN and fresh.state == State.IN_PROGRESS else Action.PLAN_UPDATE
        _record(fresh, action, user, from_state=from_state, note=note, changes=changes)
        if "responsible_user" in changes and responsible_user is not None and responsible_user.pk != user.pk:
            notify(
                user=responsible_user,
                kind=NotificationKind.ASSIGNED,
                problem=fresh,
                message=stored_text(
                    gettext_noop("您被指定为问题 #%(id)s 的整改责任人：%(text)s"),
                    {"id": fresh.pk, "text": fresh.description[:60]},
                ),
            )
    _sync_caller(problem, fresh)
    return fresh


def _display(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value)
    return value


def _apply(problem: Problem, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the fields and return {field: [old, new]} for those that changed."""
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(problem, name)
        if (old.pk if hasattr(old, "pk") else old) != (new.pk if hasattr(new, "pk") else new):
            changes[name] = [_display(old), _display(new)]
            setattr(problem, name, new)
    return changes


# --- evidence ----------------------------------------------------------------------------------------


def add_evidence(*, user: Any, problem: Problem, upload: Any, note: str = "") -> Evidence:
    """Attach a file. Allowed while the problem is being worked on (before it is marked rectified)."""
    _ensure_can_work(user)
    _ensure_in_scope(user, problem)
    note = _clean_text(note, _("说明"), max_length=200)
    try:
        info = check_upload(upload)
    except UploadRejected as exc:
        raise LedgerError(str(exc), field="file") from exc
    stored: list[str] = []
    with _delete_files_on_error(stored), transaction.atomic():
        # Locks the row on PostgreSQL so a concurrent sign-off cannot slip between the check and the write.
        locked = Problem.objects.select_for_update().get(pk=problem.pk)
        _require(
            locked.state in (State.OPEN, State.IN_PROGRESS),
            _("只有待整改或整改中的问题可以上传佐证材料（当前状态：%(state)s）。")
            % {"state": locked.get_state_display()},
        )
        evidence = _store_evidence(locked, user, upload, info, stored, note)
        _record(locked, Action.EVIDENCE, user, note=evidence.original_name)
    return evidence


def delete_evidence(*, user: Any, evidence: Evidence) -> None:
    _ensure_can_work(user)
    _ensure_in_scope(user, evidence.problem)
    with transaction.atomic():
        locked = Problem.objects.select_for_update().get(pk=evidence.problem_id)
        _require(
            locked.state in (State.OPEN, State.IN_PROGRESS),
            _("已标记整改完成或已销号的问题，佐证材料不能删除。"),
        )
        name = evidence.file.name
        original = evidence.original_name
        evidence.delete()
        # Bump the version: a rectification marked by someone who saw this file must not go through.
        Problem.objects.filter(pk=locked.pk).update(version=F("version") + 1)
        _record(locked, Action.EVIDENCE_DELETE, user, note=original)
        transaction.on_commit(lambda: evidence.file.storage.delete(name))


# --- the states --------------------------------------------------------------------------------------


def mark_rectified(*, user: Any, problem: Problem, version: int, note: str = "") -> Problem:
    """整改中 → 待核验: the plan is complete and evidence is attached."""
    _ensure_can_work(user)
    _ensure_in_scope(user, problem)
    with transaction.atomic():
        fresh = _claim(problem, version)
        _require(
            fresh.state == State.IN_PROGRESS,
            _("只有“整改中”的问题可以标记整改完成（当前状态：%(state)s）。") % {"state": fresh.get_state_display()},
        )
        _require(fresh.plan_complete, _("请先填写完整的整改方案（措施、责任单位、责任人、时限）。"))
        _require(fresh.evidence.exists(), _("请先上传佐证材料，再标记整改完成。"), field="evidence")
        fresh.state = State.AWAITING
        fresh.rectified_by = user
        fresh.rectified_level = perms.user_level(user)
        fresh.rectified_at = timezone.now()
        fresh.fixed_in_data = False
        _save(fresh)
        _record(
            fresh,
            Action.RECTIFY,
            user,
            from_state=State.IN_PROGRESS,
            note=_clean_text(note, _("说明"), max_length=2000),
        )
    _sync_caller(problem, fresh)
    return fresh


def check_verifier(user: Any, problem: Problem) -> None:
    """Maker-checker: a different person, at the same or a higher level than the one who marked it rectified.
    A problem moved by the data (no person marked it) needs township level or above."""
    _ensure_can_work(user)
    if problem.rectified_by_id is not None and problem.rectified_by_id == user.pk:
        raise NotAllowed(_("核验须由他人办理：您是标记该问题整改完成的人，同一人不能既整改又核验。"))
    maker_level = problem.rectified_level if problem.rectified_by_id is not None else Level.TOWNSHIP
    if maker_level is None:
        maker_level = Level.TOWNSHIP
    mine = perms.user_level(user)
    if mine < maker_level:
        raise NotAllowed(
            _("核验须由同级或上级人员办理：标记整改完成的是%(maker)s人员，您是%(me)s人员。")
            % {"maker": Level(maker_level).label, "me": Level(mine).label}
        )


def may_verify(user: Any, problem: Problem) -> bool:
    try:
        check_verifier(user, problem)
    except LedgerError:
        return False
    return problem.state == State.AWAITING


def return_problem(*, user: Any, problem: Problem, version: int, reason: str) -> Problem:
    """待核验 → 整改中, with a required reason; the one who marked it rectified is told."""
    _ensure_in_scope(user, problem)
    reason = _clean_text(reason, _("退回原因"), required=True, max_length=2000)
    with transaction.atomic():
        fresh = _claim(problem, version)
        _require(
            fresh.state == State.AWAITING,
            _("只有“待核验”的问题可以退回（当前状态：%(state)s）。") % {"state": fresh.get_state_display()},
        )
        check_verifier(user, fresh)
        fresh.state = State.IN_PROGRESS
        fresh.return_count += 1
        fresh.fixed_in_data = False
        _save(fresh)
        _record(fresh, Action.RETURN, user, from_state=State.AWAITING, note=reason)
        for target in {fresh.rectified_by, fresh.responsible_user} - {None, user}:
            notify(
                user=target,
                kind=NotificationKind.RETURNED,
                problem=fresh,
                message=stored_text(
                    gettext_noop("问题 #%(id)s 被退回：%(reason)s"), {"id": fresh.pk, "reason": reason[:80]}
                ),
            )
    _sync_caller(problem, fresh)
    return fresh


def sign_off(*, user: Any, problem: Problem, version: int, note: str = "") -> Problem:
    """待核验 → 已销号 (verified)."""
    _ensure_in_scope(user, problem)
    with transaction.atomic():
        fresh = _claim(problem, version)
        _require(
            fresh.state == State.AWAITING,
            _("只有“待核验”的问题可以销号（当前状态：%(state)s）。") % {"state": fresh.get_state_display()},
        )
        check_verifier(user, fresh)
        _require(
            fresh.fixed_in_data or fresh.evidence.exists(),
            _("没有佐证材料的问题不能销号。"),
        )
        fresh.state = State.CLOSED
        fresh.closed_by = user
        fresh.closed_at = timezone.now()
        _save(fresh)
        _record(
            fresh, Action.SIGN_OFF, user, from_state=State.AWAITING, note=_clean_text(note, _("说明"), max_length=2000)
        )
    _sync_caller(problem, fresh)
    return fresh


def add_note(*, user: Any, problem: Problem, note: str) -> ProblemTransition:
    """A progress note on the timeline. It changes no field, so it needs no version."""
    if not (perms.can_work(user) or perms.can_create(user)):
        raise NotAllowed(_("您的角色不能填写整改进展。"))
    _ensure_in_scope(user, problem)
    note = _clean_text(note, _("整改进展"), required=True, max_length=2000)
    _require(problem.state != State.CLOSED, _("已销号的问题不能再填写进展。"))
    return _record(problem, Action.NOTE, user, note=note)


def bulk_update(
    *,
    user: Any,
    items: Sequence[tuple[int, int]],
    responsible_person: str | None = None,
    responsible_unit: str | None = None,
    responsible_user: Any = None,
    deadline: date | None = None,
) -> int:
    """Assign a responsible person and/or set a deadline on many problems at once: all or nothing.

    `items` are (problem id, version the user saw). One stale row rolls the whole action back, and the
    message names the rows to look at again.
    """
    if not perms.can_bulk(user):
        raise NotAllowed(_("您的角色不能批量操作。"))
    _require(bool(items), _("请先勾选要处理的问题。"))
    person = _clean_text(responsible_person, _("责任人"), max_length=50) if responsible_person is not None else None
    unit = _clean_text(responsible_unit, _("责任单位"), max_length=100) if responsible_unit is not None else None
    _require(
        bool(person) or bool(unit) or responsible_user is not None or deadline is not None,
        _("请填写要设置的责任人、责任单位或整改时限。"),
    )
    ids = [pk for pk, _v in items]
    visible = set(Problem.objects.in_scope(user).filter(pk__in=ids).values_list("pk", flat=True))
    missing = [str(pk) for pk in ids if pk not in visible]
    if missing:
        raise NotAllowed(_("以下问题不存在或不在您的管辖范围内：%(ids)s。") % {"ids": "、".join(missing)})
    conflicts: list[str] = []
    with transaction.atomic():
        for pk, version in items:
            try:
                with transaction.atomic():
                    fresh = _claim(Problem(pk=pk, version=version), version)
            except ConflictError:
                conflicts.append(f"#{pk}")
                continue
            _require(fresh.state != State.CLOSED, _("问题 #%(id)s 已销号，不能修改。") % {"id": pk})
            values: dict[str, Any] = {}
            if person:
                values["responsible_person"] = person
            if unit:
                values["responsible_unit"] = unit
            if responsible_user is not None:
                _check_responsible_user(user, responsible_user, fresh.division_code)
                values["responsible_user"] = responsible_user
            if deadline is not None:
                _require(
                    deadline >= fresh.found_on,
                    _("问题 #%(id)s：整改时限不能早于发现日期。") % {"id": pk},
                )
                values["deadline"] = deadline
            from_state = fresh.state
            changes = _apply(fresh, values)
            if fresh.state == State.OPEN and fresh.plan_complete:
                fresh.state = State.IN_PROGRESS
            _save(fresh)
            action = Action.DEADLINE if set(changes) == {"deadline"} else Action.ASSIGN
            _record(fresh, action, user, from_state=from_state, changes=changes)
            if "responsible_user" in changes and responsible_user.pk != user.pk:
                notify(
                    user=responsible_user,
                    kind=NotificationKind.ASSIGNED,
                    problem=fresh,
                    message=stored_text(
                        gettext_noop("您被指定为问题 #%(id)s 的整改责任人：%(text)s"),
                        {"id": fresh.pk, "text": fresh.description[:60]},
                    ),
                )
        if conflicts:
            raise ConflictError(
                _("以下问题已被他人修改：%(ids)s。本次批量操作没有保存，请刷新列表后重试。")
                % {"ids": "、".join(conflicts)}
            )
    return len(items)


# --- the rule source (the receivers of the checks app's signals call these) ---------------------------

# checks' severities (高/中/低) → the ledger's (严重/较重/一般).
RULE_SEVERITY = {"high": Severity.CRITICAL, "medium": Severity.SERIOUS, "low": Severity.NORMAL}


def _rule_category(finding: Any) -> str:
    rule = getattr(finding, "rule", None)
    title = getattr(rule, "title", None)
    return str(title)[:100] if title else (getattr(finding, "topic", "") or finding.rule_code)


def _key_condition(keys: set[tuple[int, str, str]]) -> Q:
    condition = Q()
    for campaign_id in {k[0] for k in keys}:
        condition |= Q(campaign_id=campaign_id, rule_code__in={k[1] for k in keys if k[0] == campaign_id})
    return condition


def open_problems_for_findings(findings: Iterable[Any]) -> int:
    """Open a problem for each finding that has no live one; re-open problems the data had moved to
    待核验. Returns the number of problems opened. Bulk inserts: a rule run may bring thousands."""
    findings = list(findings)
    if not findings:
        return 0
    keys = {(f.campaign_id, f.rule_code, f.subject_key) for f in findings}
    condition = _key_condition(keys)
    live = {
        (p.campaign_id, p.rule_code, p.subject_key): p
        for p in Problem.objects.filter(condition, source=Source.RULE).exclude(state=State.CLOSED)
        if (p.campaign_id, p.rule_code, p.subject_key) in keys
    }
    divisions = dict(Division.objects.filter(code__in={f.division_code for f in findings}).values_list("code", "id"))
    new: list[Problem] = []
    with transaction.atomic():
        for finding in findings:
            key = (finding.campaign_id, finding.rule_code, finding.subject_key)
            problem = live.get(key)
            if problem is not None:
                if problem.state == State.AWAITING and problem.fixed_in_data:
                    fresh = _claim(problem, problem.version)
                    fresh.state = State.IN_PROGRESS if fresh.plan_complete else State.OPEN
                    fresh.fixed_in_data = False
                    _save(fresh)
                    _record(fresh, Action.DATA_REAPPEARED, None, from_state=State.AWAITING)
                continue
            division_id = divisions.get(finding.division_code)
            if division_id is None:
                continue
            new.append(
                Problem(
                    campaign_id=finding.campaign_id,
                    source=Source.RULE,
                    dimension=finding.dimension if 1 <= (finding.dimension or 0) <= 6 else 3,
                    category=_rule_category(finding),
                    description=(finding.detail or _rule_category(finding))[:2000],
                    severity=RULE_SEVERITY.get(getattr(finding, "severity", ""), Severity.NORMAL),
                    division_id=division_id,
                    division_code=finding.division_code,
                    household_id=finding.household_id,
                    member_id=finding.member_id,
                    found_on=getattr(finding, "opened_on", None) or timezone.localdate(),
                    found_level=Level.SYSTEM,
                    rule_code=finding.rule_code,
                    subject_key=finding.subject_key,
                )
            )
        if not new:
            return 0
        # SQLite ≥ 3.35 and PostgreSQL both return the new keys from a bulk insert.
        created = bulk_create_with_history(new, Problem, batch_size=500)
        now = timezone.now()
        ProblemTransition.objects.bulk_create(
            [
                ProblemTransition(
                    problem_id=p.pk,
                    action=Action.CREATE,
                    from_state="",
                    to_state=State.OPEN,
                    actor=None,
                    actor_level=Level.SYSTEM,
                    at=now,
                    note=stored_text(gettext_noop("规则 %(code)s 比对发现"), {"code": p.rule_code}),
                )
                for p in created
            ],
            batch_size=1000,
        )
    return len(created)


def move_problems_fixed_in_data(keys: Iterable[tuple[int, str, str]]) -> int:
    """Problems whose finding disappeared go to 待核验 (set-based; the version bump makes any user edit
    made from an older page a conflict rather than a silent overwrite)."""
    keys = set(keys)
    if not keys:
        return 0
    condition = _key_condition(keys)
    with transaction.atomic():
        candidates = [
            (p.pk, p.state)
            for p in Problem.objects.select_for_update()
            .filter(condition, source=Source.RULE, state__in=[State.OPEN, State.IN_PROGRESS])
            .only("pk", "state", "campaign_id", "rule_code", "subject_key")
            if (p.campaign_id, p.rule_code, p.subject_key) in keys
        ]
        if not candidates:
            return 0
        ids = [pk for pk, _state in candidates]
        now = timezone.now()
        Problem.objects.filter(pk__in=ids).update(
            state=State.AWAITING,
            fixed_in_data=True,
            rectified_by=None,
            rectified_level=None,
            rectified_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        Problem.history.bulk_history_create(list(Problem.objects.filter(pk__in=ids)), update=True)
        ProblemTransition.objects.bulk_create(
            [
                ProblemTransition(
                    problem_id=pk,
                    action=Action.DATA_FIXED,
                    from_state=state,
                    to_state=State.AWAITING,
                    actor=None,
                    actor_level=Level.SYSTEM,
                    at=now,
                )
                for pk, state in candidates
            ],
            batch_size=1000,
        )
    return len(candidates)


def close_waived(*, campaign_id: int, rule_code: str, subject_key: str, approver: Any, reason: str) -> Problem | None:
    """An approved waiver (豁免, approved one level up) verifies the problem: it is closed, not deleted."""
    with transaction.atomic():
        live = (
            Problem.objects.select_for_update()
            .filter(campaign_id=campaign_id, source=Source.RULE, rule_code=rule_code, subject_key=subject_key)
            .exclude(state=State.CLOSED)
            .first()
        )
        if live is None:
            return None
        fresh = _claim(live, live.version)
        from_state = fresh.state
        fresh.state = State.CLOSED
        fresh.closed_by = approver
        fresh.closed_at = timezone.now()
        _save(fresh)
        _record(
            fresh,
            Action.SIGN_OFF,
            approver,
            from_state=from_state,
            note=stored_text(gettext_noop("规则发现已批准豁免：%(r)s"), {"r": reason}),
        )
        return fresh


# --- township reports (seed 三(二)) ------------------------------------------------------------------


def _claim_report(report: TownshipReport, version: int | None) -> TownshipReport:
    seen = report.version if version is None else int(version)
    updated = TownshipReport.objects.filter(pk=report.pk, version=seen).update(version=F("version") + 1)
    if updated != 1:
        current = TownshipReport.objects.filter(pk=report.pk).values_list("version", flat=True).first()
        raise ConflictError(
            _(
                "该报告已被他人修改（您看到的是第 %(seen)s 版，现在是第 %(current)s 版），"
                "您的这次操作没有保存。请刷新页面后再操作。"
            )
            % {"seen": seen, "current": current}
        )
    return TownshipReport.objects.select_related("campaign", "township", "township__parent").get(pk=report.pk)


def _report_event(report: TownshipReport, action: str, actor: Any, note: str = "") -> None:
    ReportEvent.objects.create(report=report, action=action, actor=actor, note=note)


def _ensure_report_in_scope(user: Any, report: TownshipReport) -> None:
    if not TownshipReport.objects.in_scope(user).filter(pk=report.pk).exists():
        raise NotAllowed(_("该报告不存在，或不在您的管辖范围内。"))


def start_report(*, user: Any, campaign: Campaign, township: Division | None = None) -> TownshipReport:
    """The township's report for a campaign (created on first use, with first drafts of the narrative)."""
    if not perms.can_write_report(user):
        raise NotAllowed(_("只有乡镇扶贫专干可以编写自查报告。"))
    township = township or user.scope
    _require(
        township is not None and township.level == "township" and township.pk == user.scope_id,
        _("只能编写本乡镇的自查报告。"),
    )
    report = TownshipReport.objects.filter(campaign=campaign, township=township).first()
    if report is not None:
        return report
    from lookback.ledger.documents import suggested_text
    from lookback.ledger.selectors import report_counts

    report = TownshipReport(campaign=campaign, township=township, division_code=township.code)
    for name, text in suggested_text(report_counts(campaign, township), report).items():
        setattr(report, name, text)
    try:
        with transaction.atomic():
            report.save()
            _report_event(report, "create", user)
    except IntegrityError:  # started at the same moment in another tab
        report = TownshipReport.objects.get(campaign=campaign, township=township)
    return report


def update_report_text(
    *,
    user: Any,
    report: TownshipReport,
    version: int,
    basic_situation: str,
    rectification_summary: str,
    next_steps: str,
) -> TownshipReport:
    if not perms.can_write_report(user):
        raise NotAllowed(_("只有乡镇扶贫专干可以编写自查报告。"))
    _ensure_report_in_scope(user, report)
    with transaction.atomic():
        fresh = _claim_report(report, version)
        _require(not fresh.is_frozen, _("报告已报送，内容已固定，不能再修改。"))
        fresh.basic_situation = _clean_text(basic_situation, _("基本情况"), max_length=10000)
        fresh.rectification_summary = _clean_text(rectification_summary, _("整改情况"), max_length=10000)
        fresh.next_steps = _clean_text(next_steps, _("下一步工作"), max_length=10000)
        fresh.save()
        _report_event(fresh, "edit", user)
    return fresh


def submit_report(*, user: Any, report: TownshipReport, version: int) -> TownshipReport:
    """Freeze the report: generate the .docx and the .xlsx ledger, store them, record their SHA-256 and
    the figures. A first submission after the campaign's deadline marks the report late (a report that
    is returned and submitted again keeps the lateness of its first submission)."""
    import hashlib

    from django.core.files.base import ContentFile

    from lookback.ledger.documents import build_docx, build_xlsx
    from lookback.ledger.selectors import report_counts

    if not perms.can_write_report(user):
        raise NotAllowed(_("只有乡镇扶贫专干可以报送自查报告。"))
    _ensure_report_in_scope(user, report)
    stored: list[str] = []
    with _delete_files_on_error(stored), transaction.atomic():
        fresh = _claim_report(report, version)
        _require(
            fresh.state in (ReportState.DRAFT, ReportState.RETURNED),
            _("报告已报送，不能重复报送。"),
        )
        _require(bool(fresh.basic_situation.strip()), _("请填写“基本情况”后再报送。"))
        now = timezone.now()
        counts = report_counts(fresh.campaign, fresh.township)
        docx = build_docx(fresh, counts, submitted_at=now)
        xlsx = build_xlsx(fresh)
        stamp = timezone.localtime(now).strftime("%Y%m%d%H%M")
        fresh.docx_file.save(f"自查报告-{fresh.township.name}-{stamp}.docx", ContentFile(docx), save=False)
        stored.append(fresh.docx_file.name)
        fresh.xlsx_file.save(f"问题台帐-{fresh.township.name}-{stamp}.xlsx", ContentFile(xlsx), save=False)
        stored.append(fresh.xlsx_file.name)
        fresh.docx_sha256 = hashlib.sha256(docx).hexdigest()
        fresh.xlsx_sha256 = hashlib.sha256(xlsx).hexdigest()
        fresh.snapshot = counts
        fresh.state = ReportState.SUBMITTED
        fresh.submitted_at = now
        fresh.submitted_by = user
        if fresh.first_submitted_at is None:
            fresh.first_submitted_at = now
            fresh.is_late = timezone.localdate(now) > fresh.campaign.report_deadline
        fresh.return_reason = ""
        fresh.save()
        _report_event(fresh, "submit", user, note=stored_text(gettext_noop("逾期报送")) if fresh.is_late else "")
    return fresh


def accept_report(*, user: Any, report: TownshipReport, version: int, note: str = "") -> TownshipReport:
    if not perms.can_review_report(user):
        raise NotAllowed(_("只有县（市）扶贫办可以接收乡镇自查报告。"))
    _ensure_report_in_scope(user, report)
    with transaction.atomic():
        fresh = _claim_report(report, version)
        _require(fresh.state == ReportState.SUBMITTED, _("只有已报送的报告可以接收。"))
        fresh.state = ReportState.ACCEPTED
        fresh.reviewed_by = user
        fresh.reviewed_at = timezone.now()
        fresh.save()
        _report_event(fresh, "accept", user, note=note)
    return fresh


def return_report(*, user: Any, report: TownshipReport, version: int, reason: str) -> TownshipReport:
    if not perms.can_review_report(user):
        raise NotAllowed(_("只有县（市）扶贫办可以退回乡镇自查报告。"))
    _ensure_report_in_scope(user, report)
    reason = _clean_text(reason, _("退回原因"), required=True, max_length=2000)
    with transaction.atomic():
        fresh = _claim_report(report, version)
        _require(fresh.state == ReportState.SUBMITTED, _("只有已报送的报告可以退回。"))
        fresh.state = ReportState.RETURNED
        fresh.reviewed_by = user
        fresh.reviewed_at = timezone.now()
        fresh.return_reason = reason
        fresh.save()
        _report_event(fresh, "return", user, note=reason)
        notify(
            user=fresh.submitted_by,
            kind=NotificationKind.REPORT_RETURNED,
            report=fresh,
            message=stored_text(gettext_noop("自查报告被退回：%(reason)s"), {"reason": reason[:100]}),
        )
    return fresh


# --- unit self-check (二(一) 到位度) ------------------------------------------------------------------


def answer_self_check(*, user: Any, campaign: Campaign, answers: dict[int, tuple[bool, str]]) -> list[Problem]:
    """Record the unit's answers; every "否" becomes a problem (source 乡镇自查, dimension 1) unless it
    already has one. Returns the problems opened."""
    if not perms.can_self_check(user):
        raise NotAllowed(_("只有乡镇或县扶贫办可以填写单位自查。"))
    unit = user.scope
    level = UnitLevel.TOWNSHIP if unit.level == "township" else UnitLevel.COUNTY
    items = {i.pk: i for i in SelfCheckItem.objects.filter(campaign=campaign, unit_level=level, is_active=True)}
    unknown = [pk for pk in answers if pk not in items]
    _require(not unknown, _("自查项目不存在或不适用于本单位。"))
    opened: list[Problem] = []
    with transaction.atomic():
        for pk, (answer, note) in answers.items():
            item = items[pk]
            note = _clean_text(note, _("情况说明"), max_length=500)
            record, _created = SelfCheckAnswer.objects.update_or_create(
                item=item,
                unit=unit,
                defaults={"division_code": unit.code, "answer": answer, "note": note, "answered_by": user},
            )
            if not answer and record.problem_id is None:
                description = stored_text(gettext_noop("单位自查未落实：%(item)s"), {"item": item.text})
                if note:
                    description += stored_text(gettext_noop("（%(note)s）"), {"note": note})
                problem = create_problem(
                    user=user,
                    campaign=campaign,
                    source=Source.SELF_CHECK,
                    dimension=Dimension.RESPONSIBILITY,
                    category=stored_text(gettext_noop("单位自查")),
                    description=description,
                    division=unit,
                )
                record.problem = problem
                record.save(update_fields=["problem"])
                opened.append(problem)
    return opened


# --- accountability (seed 四(四)) --------------------------------------------------------------------


def record_accountability(
    *,
    user: Any,
    campaign: Campaign,
    kind: str,
    person_name: str,
    unit: str,
    division: Division,
    reason: str,
    decided_by: str,
    decided_on: date,
    person_position: str = "",
    problems: Sequence[Problem] = (),
    complaint_ref: str = "",
) -> Accountability:
    if not perms.can_write_accountability(user):
        raise NotAllowed(_("只有市扶贫办可以录入问责记录。"))
    _require(kind in AccountabilityKind.values, _("问责方式无效。"), field="kind")
    _require(division.code.startswith(user.scope_prefix or ""), _("所选地区不在您的管辖范围内。"), field="division")
    _require(decided_on <= timezone.localdate(), _("决定日期不能晚于今天。"), field="decided_on")
    visible = set(Problem.objects.in_scope(user).filter(pk__in=[p.pk for p in problems]).values_list("pk", flat=True))
    _require(all(p.pk in visible for p in problems), _("关联问题不存在或不在您的管辖范围内。"), field="problems")
    with transaction.atomic():
        record = Accountability.objects.create(
            campaign=campaign,
            kind=kind,
            person_name=_clean_text(person_name, _("被问责人"), required=True, max_length=50),
            person_position=_clean_text(person_position, _("职务"), max_length=100),
            unit=_clean_text(unit, _("单位"), required=True, max_length=100),
            division=division,
            division_code=division.code,
            reason=_clean_text(reason, _("问责事由"), required=True, max_length=5000),
            complaint_ref=_clean_text(complaint_ref, _("关联举报编号"), max_length=100),
            decided_by=_clean_text(decided_by, _("决定机关"), required=True, max_length=100),
            decided_on=decided_on,
            recorded_by=user,
        )
        record.problems.set(problems)
    return record


# --- notifications ---------------------------------------------------------------------------------


def mark_notifications_read(*, user: Any, ids: Sequence[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def send_due_reminders(*, today: date | None = None) -> int:
    """Remind responsible accounts of their problems due within 10 days (once per problem and day)."""
    from datetime import timedelta

    today = today or timezone.localdate()
    due = Problem.objects.filter(
        state__in=[State.OPEN, State.IN_PROGRESS],
        responsible_user__isnull=False,
        deadline__lte=today + timedelta(days=10),
    ).select_related("responsible_user")
    sent = 0
    for problem in due.iterator(chunk_size=500):
        days = (problem.deadline - today).days
        message = (
            _("问题 #%(id)s 已超过整改时限 %(n)d 天") % {"id": problem.pk, "n": -days}
            if days < 0
            else _("问题 #%(id)s 距整改时限还有 %(n)d 天") % {"id": problem.pk, "n": days}
        )
        before = Notification.objects.filter(user=problem.responsible_user).count()
        notify(
            user=problem.responsible_user,
            kind=NotificationKind.DUE_SOON,
            problem=problem,
            message=message,
            key=f"due:{problem.pk}:{today.isoformat()}",
        )
        sent += Notification.objects.filter(user=problem.responsible_user).count() - before
    return sent


def copy_self_check_items(*, source: Campaign, target: Campaign) -> int:
    """Start a new campaign's unit self-check from an earlier one's items (those it does not have yet)."""
    existing = set(SelfCheckItem.objects.filter(campaign=target).values_list("unit_level", "text"))
    new = [
        SelfCheckItem(campaign=target, unit_level=i.unit_level, order=i.order, text=i.text, clause=i.clause)
        for i in SelfCheckItem.objects.filter(campaign=source, is_active=True)
        if (i.unit_level, i.text) not in existing
    ]
    SelfCheckItem.objects.bulk_create(new)
    return len(new)
