"""Rule runs, their per-rule statistics, findings and waivers.

A finding is keyed by (campaign, rule, subject). The engine writes findings set-based (SQL over a
staging table), so the columns here are what that SQL fills in; see `engine.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lookback.accounts.roles import Role
from lookback.checks.catalogue import Severity, SubjectKind, get_rule
from lookback.core.scoping import ScopedManager


class CheckRun(models.Model):
    """One run of a campaign's rules: who, when, over which scope, how long, with what result."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("运行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("出错")

    class Source(models.TextChoices):
        WEB = "web", _("页面")
        CLI = "cli", _("命令行")
        API = "api", _("接口")

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name=_("回头看活动"), on_delete=models.CASCADE, related_name="check_runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(_("方式"), max_length=10, choices=Source.choices, default=Source.WEB)
    # The division prefix the run judged ("" = everywhere); findings outside it are left alone.
    scope_prefix = models.CharField(_("范围"), max_length=12, blank=True)
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True, db_index=True)
    rule_codes = models.JSONField(_("所选规则"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    current_rule = models.CharField(_("当前规则"), max_length=20, blank=True)
    task_id = models.CharField(_("任务编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    found = models.PositiveIntegerField(_("发现"), default=0)
    opened = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    fixed = models.PositiveIntegerField(_("已整改（数据）"), default=0)
    error = models.TextField(_("错误"), blank=True)

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("规则运行")
        verbose_name_plural = _("规则运行")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.campaign.code} #{self.pk}"

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class RuleRunStat(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("完成")
        SKIPPED = "skipped", _("跳过")
        ERROR = "error", _("出错")

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="stats")
    rule_code = models.CharField(_("规则"), max_length=20)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OK)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    found = models.PositiveIntegerField(_("发现"), default=0)
    opened = models.PositiveIntegerField(_("新增"), default=0)
    fixed = models.PositiveIntegerField(_("已整改（数据）"), default=0)
    message = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("规则耗时")
        verbose_name_plural = _("规则耗时")
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "rule_code"], name="uniq_rule_run_stat")]

    def __str__(self) -> str:
        return f"{self.rule_code}: {self.found}"

    @property
    def rule(self):
        return get_rule(self.rule_code)


class Finding(models.Model):
    """A rule's hit on a subject (发现 / 疑点), kept across runs."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        WAIVED = "waived", _("已豁免")
        FIXED = "fixed", _("数据已整改")

    # The foreign keys of a finding are not constraints in the database (db_constraint=False): a run
    # inserts hundreds of thousands of findings at once, and PostgreSQL checked each key of each row at
    # commit (about 10 s of the 300,000-household benchmark). Only the engine writes these columns, from
    # rows it has just read; deletes still go through Django, which applies on_delete (CASCADE,
    # SET_NULL) itself, as before. The campaign is the first column of the unique key, so it has no
    # index of its own; topic and dimension are only ever filtered inside a campaign, next to the
    # (campaign, status, rule) index, and lost their indexes too (each cost an insert per finding).
    # The other indexes are in Meta: each one costs about a second of a 550,000-finding first run on
    # PostgreSQL, so only those a page or the engine needs are kept, and partial where most rows are NULL.
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("回头看活动"),
        on_delete=models.CASCADE,
        related_name="findings",
        db_constraint=False,
        db_index=False,
    )
    rule_code = models.CharField(_("规则"), max_length=20)
    topic = models.CharField(_("问题类别"), max_length=40)
    dimension = models.PositiveSmallIntegerField(_("维度"))
    subject_kind = models.CharField(_("对象类型"), max_length=10, choices=SubjectKind.choices)
    subject_key = models.CharField(_("对象"), max_length=64)
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_constraint=False,
    )
    member = models.ForeignKey(
        "registry.Member",
        verbose_name=_("家庭成员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_constraint=False,
        db_index=False,
    )
    # Kept on the row for subjects that are not (or no longer) in the registry, e.g. a household
    # found only in the national snapshot.
    household_no = models.CharField(_("户编号"), max_length=40, blank=True)
    division_code = models.CharField(_("行政区划代码"), max_length=12)
    detail = models.TextField(_("问题描述"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField(_("发现日期"))
    fixed_on = models.DateField(_("整改日期"), null=True, blank=True)
    # The run that last opened (or re-opened) / fixed it: lets the engine name what changed, set-based.
    opened_run = models.ForeignKey(
        CheckRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opened_findings",
        db_constraint=False,
        db_index=False,
    )
    fixed_run = models.ForeignKey(
        CheckRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"
    HELPER_PATH = "household__assignments__helper__user"

    class Meta:
        verbose_name = _("发现")
        verbose_name_plural = _("发现")
        ordering = ["rule_code", "division_code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "rule_code", "subject_key"], name="uniq_finding_subject")
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "rule_code"], name="finding_campaign_status"),
            # Scoping is a prefix match (LIKE '3501%'): on PostgreSQL a pattern_ops index serves it and
            # equality too, so the column has no second, plain index (SQLite ignores the opclass).
            models.Index(fields=["division_code"], name="finding_division", opclasses=["varchar_pattern_ops"]),
            # For deleting a member (SET_NULL); three findings in four are about a household or a unit.
            models.Index(fields=["member"], name="finding_member", condition=models.Q(member__isnull=False)),
            # The findings a run fixed (the ledger's receivers); a new finding has none. The run that
            # opened a finding has no index: the engine counts what it opened from its own staging
            # tables (engine._reconcile).
            models.Index(fields=["fixed_run"], name="finding_fixed_run", condition=models.Q(fixed_run__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.rule_code} {self.subject_kind}:{self.subject_key}"

    @property
    def rule(self):
        return get_rule(self.rule_code)

    @property
    def severity(self) -> str:
        rule = self.rule
        return rule.severity if rule else Severity.MEDIUM


# Who may ask for a waiver (the responsible level), and who approves it: one level up.
APPROVER_ROLE = {Role.TOWNSHIP: Role.COUNTY, Role.COUNTY: Role.CITY}


def waiver_upload_to(instance: Waiver, filename: str) -> str:
    return f"waivers/{instance.division_code[:6] or 'all'}/{filename}"


class Waiver(models.Model):
    """豁免: a finding accepted as a legitimate exception, asked by the responsible level, approved one up."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")
        LAPSED = "lapsed", _("已失效（数据变化）")

    finding = models.ForeignKey(Finding, verbose_name=_("发现"), on_delete=models.CASCADE, related_name="waivers")
    reason = models.TextField(_("豁免理由"))
    evidence_file = models.FileField(_("佐证材料"), upload_to=waiver_upload_to, blank=True, max_length=300)
    evidence_text = models.CharField(_("佐证说明或文号"), max_length=300, blank=True)
    # The finding's detail when asked: the data the waiver accepts. A later run that finds other data
    # for the same subject re-opens the finding and lets the waiver lapse.
    fingerprint = models.TextField(_("豁免时的问题描述"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_role = models.CharField(_("申请层级"), max_length=20)
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"
    HELPER_PATH = "finding__household__assignments__helper__user"

    class Meta:
        verbose_name = _("豁免")
        verbose_name_plural = _("豁免")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.finding} ({self.get_status_display()})"


class IdRegion(models.Model):
    """Region codes (first six digits of an ID number) that python-stdnum knows, so that ID validation
    runs as SQL over a million members in one pass (see `idcheck.py`)."""

    code = models.CharField(max_length=6, unique=True)

    class Meta:
        verbose_name = _("身份证地区码")
        verbose_name_plural = _("身份证地区码")

    def __str__(self) -> str:
        return self.code
