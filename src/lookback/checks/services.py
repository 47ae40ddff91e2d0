"""Everything the checks app writes from a request: starting a run, asking for and deciding waivers.

(The engine itself, which writes findings, is `engine.run_checks`.)
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import filetype
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from lookback.accounts.roles import RUN_CHECKS
from lookback.campaigns.models import Campaign
from lookback.checks import signals
from lookback.checks.engine import UnknownRule, select_rules
from lookback.checks.models import APPROVER_ROLE, CheckRun, Finding, Waiver
from lookback.core.i18n import stored_text


class ChecksError(ValueError):
    """A refused action; the message is for the user, in Chinese."""


# A run that has been queued or running this long is presumed dead (a worker was killed).
STALE_AFTER = timedelta(hours=2)


EVIDENCE_EXTENSIONS = {
    ".pdf": {"pdf"},
    ".jpg": {"jpg"},
    ".jpeg": {"jpg"},
    ".png": {"png"},
    ".docx": {"docx", "zip"},
    ".xlsx": {"xlsx", "zip"},
}
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024


def busy_runs(campaign: Campaign):
    """Runs of the campaign queued or running, not yet presumed dead."""
    return CheckRun.objects.filter(
        campaign=campaign,
        status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING],
        created_at__gte=timezone.now() - STALE_AFTER,
    )


def start_run(*, user: Any, campaign: Campaign, rule_codes: list[str] | None = None, source: str = "web") -> CheckRun:
    """Queue a rule run over the user's scope, as a background task. Refuses a second concurrent run."""
    from lookback.checks.tasks import run_checks_task

    if not user.can(RUN_CHECKS):
        raise ChecksError(_("您没有运行规则检查的权限。"))
    prefix = user.scope_prefix
    if prefix is None:
        raise ChecksError(_("您的账号没有管辖范围，不能运行检查。"))
    try:
        codes = [rule.code for rule in select_rules(campaign, rule_codes)] if rule_codes else []
    except UnknownRule as exc:
        raise ChecksError(_("没有规则“%(code)s”。") % {"code": exc}) from exc
    with transaction.atomic():
        if busy_runs(campaign).select_for_update().exists():
            raise ChecksError(_("该活动已有一次检查在排队或运行，请等它结束后再运行。"))
        run = CheckRun.objects.create(
            campaign=campaign,
            started_by=user,
            source=source,
            scope_prefix=prefix,
            division_code=prefix,
            rule_codes=codes,
        )
    result = run_checks_task.enqueue(run.pk)
    CheckRun.objects.filter(pk=run.pk).update(task_id=str(result.id)[:64])
    run.refresh_from_db()
    return run


def _check_evidence(upload: UploadedFile | None) -> None:
    if upload is None:
        return
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in EVIDENCE_EXTENSIONS:
        raise ChecksError(
            _("佐证材料只接受以下类型：%(types)s。") % {"types": "、".join(e.lstrip(".") for e in EVIDENCE_EXTENSIONS)}
        )
    if upload.size > EVIDENCE_MAX_BYTES:
        raise ChecksError(_("佐证材料不能超过 %(mb)s MB。") % {"mb": EVIDENCE_MAX_BYTES // (1024 * 1024)})
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in EVIDENCE_EXTENSIONS[suffix]:
        raise ChecksError(_("文件“%(name)s”的内容与扩展名不符。") % {"name": upload.name})


def request_waiver(
    *,
    user: Any,
    finding: Finding,
    reason: str,
    evidence_text: str = "",
    evidence_file: UploadedFile | None = None,
) -> Waiver:
    """A township or county officer asks to waive an open finding in their scope."""
    if user.role not in APPROVER_ROLE:
        raise ChecksError(_("只有乡镇扶贫专干或县扶贫办可以申请豁免。"))
    reason = (reason or "").strip()
    evidence_text = (evidence_text or "").strip()
    if len(reason) < 4:
        raise ChecksError(_("请填写豁免理由（至少4个字）。"))
    if not evidence_text and evidence_file is None:
        raise ChecksError(_("请上传佐证材料或填写佐证说明（如文号、证明名称）。"))
    _check_evidence(evidence_file)
    with transaction.atomic():
        locked = Finding.objects.in_scope(user).select_for_update().filter(pk=finding.pk).first()
        if locked is None:
            raise ChecksError(_("找不到该问题线索，或它不在您的管辖范围内。"))
        if locked.status != Finding.Status.OPEN:
            raise ChecksError(_("只有待处理的问题线索可以申请豁免。"))
        if locked.waivers.filter(status=Waiver.Status.PENDING).exists():
            raise ChecksError(_("该问题线索已有待审批的豁免申请。"))
        waiver = Waiver(
            finding=locked,
            reason=reason,
            evidence_text=evidence_text[:300],
            fingerprint=locked.detail,
            requested_by=user,
            requested_role=user.role,
            division_code=locked.division_code,
        )
        if evidence_file is not None:
            waiver.evidence_file.save(Path(evidence_file.name).name, evidence_file, save=False)
        waiver.save()
    return waiver


def can_decide(user: Any, waiver: Waiver) -> bool:
    return (
        waiver.status == Waiver.Status.PENDING
        and getattr(user, "role", None) == APPROVER_ROLE.get(waiver.requested_role)
        and user.pk != waiver.requested_by_id
        and Waiver.objects.in_scope(user).filter(pk=waiver.pk).exists()
    )


def decide_waiver(*, user: Any, waiver: Waiver, approve: bool, note: str = "") -> Waiver:
    """One level up approves or rejects. Approval waives the finding, unless its data changed since."""
    with transaction.atomic():
        waiver = Waiver.objects.select_for_update().select_related("finding").get(pk=waiver.pk)
        if waiver.status != Waiver.Status.PENDING:
            raise ChecksError(_("该豁免申请已处理。"))
        if not can_decide(user, waiver):
            raise ChecksError(_("豁免须由申请人的上一级审批：乡镇的申请由县扶贫办审批，县的申请由市扶贫办审批。"))
        note = (note or "").strip()
        if not approve and len(note) < 2:
            raise ChecksError(_("驳回时请填写理由。"))
        finding = Finding.objects.select_for_update().get(pk=waiver.finding_id)
        waiver.decided_by = user
        waiver.decided_at = timezone.now()
        waiver.decision_note = note
        if approve and (finding.status != Finding.Status.OPEN or finding.detail != waiver.fingerprint):
            waiver.status = Waiver.Status.LAPSED
            waiver.decision_note = (note + " " if note else "") + stored_text(
                gettext_noop("（申请后数据已变化，豁免失效）")
            )
            waiver.save()
            raise_after = ChecksError(_("申请豁免后该问题线索的数据已变化或状态已改变，豁免失效，请重新核实。"))
        else:
            raise_after = None
            waiver.status = Waiver.Status.APPROVED if approve else Waiver.Status.REJECTED
            waiver.save()
            if approve:
                finding.status = Finding.Status.WAIVED
                finding.updated_at = timezone.now()
                finding.save(update_fields=["status", "updated_at"])
                transaction.on_commit(
                    lambda: signals.finding_waived.send(sender=Finding, finding=finding, waiver=waiver)
                )
    if raise_after is not None:
        raise raise_after
    return waiver
