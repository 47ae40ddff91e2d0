"""The problem ledger (问题台帐, seed 三(二), 四(三), 四(四)): one place for every problem, whatever found it,
with its rectification plan, evidence, sign-off, the township reports built from it and accountability.

State changes happen only in `services.py`; the models hold data and the invariants a row can check on
its own. Every model that belongs to a place carries the 12-digit division code (`SCOPE_FIELD`).
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from lookback.core.models import TimeStampedModel
from lookback.core.scoping import ScopedManager


class Source(models.TextChoices):
    RULE = "rule", _("规则比对")
    SELF_CHECK = "self_check", _("乡镇自查")
    VISIT = "visit", _("入户走访")
    COUNTY_REVIEW = "county_review", _("县级复核")
    CITY_SPOT_CHECK = "city_spot_check", _("市级抽查")
    COMPLAINT = "complaint", _("群众举报")


class Dimension(models.IntegerChoices):
    """The six degrees of seed 二(一)–二(六)."""

    RESPONSIBILITY = 1, _("到位度")
    PROGRESS = 2, _("推进度")
    ACCURACY = 3, _("准确度")
    SUBSTANCE = 4, _("实在度")
    RECOGNITION = 5, _("认可度")
    EFFICIENCY = 6, _("效益度")


class Severity(models.TextChoices):
    NORMAL = "normal", _("一般")
    SERIOUS = "serious", _("较重")
    CRITICAL = "critical", _("严重")


class State(models.TextChoices):
    OPEN = "open", _("待整改")
    IN_PROGRESS = "in_progress", _("整改中")
    AWAITING = "awaiting", _("待核验")
    CLOSED = "closed", _("已销号")


class Level(models.IntegerChoices):
    """Who found a problem / who acted on it. Maker-checker compares these (village < … < city)."""

    SYSTEM = 0, _("系统比对")
    VILLAGE = 1, _("村级")
    TOWNSHIP = 2, _("乡镇级")
    COUNTY = 3, _("县级")
    CITY = 4, _("市级")


class Band(models.TextChoices):
    """Deadline bands of an unfinished problem, relative to today (see docs/ledger.md)."""

    OVERDUE = "overdue", _("超时限")
    DUE_10 = "due10", _("≤10 天")
    DUE_20 = "due20", _("≤20 天")
    LATER = "later", _(">20 天")
    NONE = "none", _("未定时限")


class Problem(TimeStampedModel):
    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name=_("回头看活动"), on_delete=models.PROTECT, related_name="problems"
    )
    source = models.CharField(_("问题来源"), max_length=20, choices=Source.choices, db_index=True)
    dimension = models.PositiveSmallIntegerField(_("维度"), choices=Dimension.choices, db_index=True)
    category = models.CharField(_("问题类别"), max_length=100, blank=True)
    description = models.TextField(_("问题描述"))
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    division = models.ForeignKey(
        "divisions.Division", verbose_name=_("所在地"), on_delete=models.PROTECT, related_name="+"
    )
    # The place's 12-digit code on the row: one indexed prefix filter scopes every query.
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
    )
    member = models.ForeignKey(
        "registry.Member",
        verbose_name=_("家庭成员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发现人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    found_on = models.DateField(_("发现日期"), default=timezone.localdate)
    found_level = models.PositiveSmallIntegerField(_("发现层级"), choices=Level.choices, default=Level.TOWNSHIP)
    # The finding that opened it, by key rather than by foreign key: the checks app may be absent.
    rule_code = models.CharField(_("规则代码"), max_length=60, blank=True, db_index=True)
    subject_key = models.CharField(_("对象"), max_length=100, blank=True)

    # The rectification plan (整改方案, seed 四(三)).
    measures = models.TextField(_("整改措施"), blank=True)
    responsible_unit = models.CharField(_("责任单位"), max_length=100, blank=True)
    responsible_person = models.CharField(_("责任人"), max_length=50, blank=True)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger_assignments",
        help_text=_("填写后，该账号会收到提醒。"),
    )
    deadline = models.DateField(_("整改时限"), null=True, blank=True, db_index=True)

    state = models.CharField(_("整改状态"), max_length=12, choices=State.choices, default=State.OPEN, db_index=True)
    # Optimistic locking: every change is `UPDATE … WHERE version = n` (services._claim).
    version = models.PositiveIntegerField(_("版本"), default=1)
    on_the_spot = models.BooleanField(_("立行立改"), default=False)
    fixed_in_data = models.BooleanField(
        _("数据已修正"), default=False, help_text=_("规则复查时数据中已不再出现该问题，待人工核验。")
    )
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("整改完成标记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rectified_level = models.PositiveSmallIntegerField(_("整改完成标记人层级"), choices=Level.choices, null=True)
    rectified_at = models.DateTimeField(_("整改完成时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("销号人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"
    HELPER_PATH = "household__assignments__helper__user"

    class Meta:
        verbose_name = _("问题")
        verbose_name_plural = _("问题台帐")
        ordering = ["-found_on", "-id"]
        indexes = [models.Index(fields=["campaign", "state"], name="ledger_problem_campaign_state")]
        constraints = [
            # One live problem per rule finding; a finding that comes back after sign-off opens a new one.
            models.UniqueConstraint(
                fields=["campaign", "rule_code", "subject_key"],
                condition=Q(source="rule") & ~Q(state="closed"),
                name="uniq_live_problem_per_finding",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description[:30]}"

    @property
    def plan_complete(self) -> bool:
        return bool(self.measures.strip() and self.responsible_unit.strip() and self.responsible_person.strip()) and (
            self.deadline is not None
        )

    @property
    def is_live(self) -> bool:
        return self.state != State.CLOSED

    def band(self, today: date | None = None) -> str | None:
        """The overdue band of an unfinished problem; None once signed off."""
        if self.state == State.CLOSED:
            return None
        return band_for(self.deadline, today or timezone.localdate())

    def closed_on_time(self) -> bool | None:
        if self.state != State.CLOSED or self.deadline is None or self.closed_at is None:
            return None
        return timezone.localdate(self.closed_at) <= self.deadline


def band_for(deadline: date | None, today: date) -> str:
    if deadline is None:
        return Band.NONE
    days = (deadline - today).days
    if days < 0:
        return Band.OVERDUE
    if days <= 10:
        return Band.DUE_10
    if days <= 20:
        return Band.DUE_20
    return Band.LATER


class Action(models.TextChoices):
    CREATE = "create", _("登记问题")
    PLAN = "plan", _("制定整改方案")
    PLAN_UPDATE = "plan_update", _("修改整改方案")
    EVIDENCE = "evidence", _("上传佐证材料")
    EVIDENCE_DELETE = "evidence_delete", _("删除佐证材料")
    RECTIFY = "rectify", _("标记整改完成")
    RETURN = "return", _("退回")
    SIGN_OFF = "sign_off", _("销号")
    DATA_FIXED = "data_fixed", _("规则复查：数据已修正")
    DATA_REAPPEARED = "data_reappeared", _("规则复查：问题再次出现")
    ASSIGN = "assign", _("指定责任人")
    DEADLINE = "deadline", _("设置整改时限")
    NOTE = "note", _("整改进展")


class ProblemTransition(models.Model):
    """The timeline: every state change and every edit of a problem, who did it (None: the system), when."""

    problem = models.ForeignKey(Problem, verbose_name=_("问题"), on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    from_state = models.CharField(_("原状态"), max_length=12, choices=State.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=12, choices=State.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_level = models.PositiveSmallIntegerField(_("操作人层级"), choices=Level.choices, default=Level.SYSTEM)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    note = models.TextField(_("说明"), blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)

    objects = ScopedManager()
    SCOPE_FIELD = "problem__division_code"
    HELPER_PATH = "problem__household__assignments__helper__user"

    class Meta:
        verbose_name = _("问题处理记录")
        verbose_name_plural = _("问题处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.get_action_display()}"

    @property
    def is_state_change(self) -> bool:
        return bool(self.to_state) and self.from_state != self.to_state


def evidence_path(instance: Evidence, filename: str) -> str:
    # A random name: the original one is kept in the row, never used on disk.
    suffix = Path(filename).suffix.lower()[:10]
    return f"ledger/evidence/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Evidence(models.Model):
    """佐证材料: a file proving a rectification. Served only through the scoped download view."""

    problem = models.ForeignKey(Problem, verbose_name=_("问题"), on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=300)
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = ScopedManager()
    SCOPE_FIELD = "problem__division_code"
    HELPER_PATH = "problem__household__assignments__helper__user"

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ReportState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")
    ACCEPTED = "accepted", _("已接收")
    RETURNED = "returned", _("已退回")


def report_path(instance: TownshipReport, filename: str) -> str:
    return f"ledger/reports/{instance.campaign.code}/{instance.division_code}/{uuid.uuid4().hex}-{filename}"


class TownshipReport(TimeStampedModel):
    """书面材料 (seed 三(二)): a township's written self-check report to the county for one campaign."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name=_("回头看活动"), on_delete=models.PROTECT, related_name="township_reports"
    )
    township = models.ForeignKey(
        "divisions.Division", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    state = models.CharField(_("状态"), max_length=10, choices=ReportState.choices, default=ReportState.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)
    # The narrative parts the officer writes; the counts are generated from the ledger.
    basic_situation = models.TextField(_("基本情况"), blank=True)
    rectification_summary = models.TextField(_("整改情况"), blank=True)
    next_steps = models.TextField(_("下一步工作"), blank=True)
    docx_file = models.FileField(_("书面材料（docx）"), upload_to=report_path, max_length=300, blank=True)
    xlsx_file = models.FileField(_("问题台帐（xlsx）"), upload_to=report_path, max_length=300, blank=True)
    docx_sha256 = models.CharField(_("docx SHA-256"), max_length=64, blank=True)
    xlsx_sha256 = models.CharField(_("xlsx SHA-256"), max_length=64, blank=True)
    snapshot = models.JSONField(_("报送时的统计"), default=dict, blank=True)
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_late = models.BooleanField(_("逾期报送"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("乡镇自查报告")
        verbose_name_plural = _("乡镇自查报告")
        ordering = ["campaign", "division_code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "township"], name="uniq_township_report")]

    def __str__(self) -> str:
        return f"{self.township.name} · {self.campaign.name}"

    @property
    def is_frozen(self) -> bool:
        return self.state in (ReportState.SUBMITTED, ReportState.ACCEPTED)


class ReportAction(models.TextChoices):
    CREATE = "create", _("开始编写")
    EDIT = "edit", _("修改")
    SUBMIT = "submit", _("报送")
    ACCEPT = "accept", _("县扶贫办接收")
    RETURN = "return", _("县扶贫办退回")


class ReportEvent(models.Model):
    report = models.ForeignKey(TownshipReport, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=20, choices=ReportAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("报告处理记录")
        verbose_name_plural = _("报告处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.action}"


class UnitLevel(models.TextChoices):
    TOWNSHIP = "township", _("乡镇")
    COUNTY = "county", _("县")


class SelfCheckItem(models.Model):
    """A unit-level self-check question for 二(一) 到位度; "否" becomes a problem. Editable per campaign."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name=_("回头看活动"), on_delete=models.CASCADE, related_name="self_check_items"
    )
    unit_level = models.CharField(_("适用单位"), max_length=10, choices=UnitLevel.choices)
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    text = models.CharField(_("自查内容"), max_length=300)
    clause = models.CharField(_("依据条款"), max_length=20, default="二(一)")
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("单位自查项目")
        verbose_name_plural = _("单位自查项目")
        ordering = ["campaign", "unit_level", "order", "id"]

    def __str__(self) -> str:
        return self.text


class SelfCheckAnswer(models.Model):
    item = models.ForeignKey(
        SelfCheckItem, verbose_name=_("自查项目"), on_delete=models.CASCADE, related_name="answers"
    )
    unit = models.ForeignKey("divisions.Division", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    answer = models.BooleanField(_("是否落实"))
    note = models.CharField(_("情况说明"), max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("填报时间"), auto_now=True)
    problem = models.ForeignKey(
        Problem, verbose_name=_("对应问题"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("单位自查结果")
        verbose_name_plural = _("单位自查结果")
        constraints = [models.UniqueConstraint(fields=["item", "unit"], name="uniq_self_check_answer")]

    def __str__(self) -> str:
        return f"{self.unit} · {self.item}"


class AccountabilityKind(models.TextChoices):
    INTERVIEW = "interview", _("约谈")
    NOTICE = "notice", _("通报批评")
    ADMONISH = "admonish", _("诫勉谈话")
    DISCIPLINE = "discipline", _("党纪政务处分")
    ORGANISATIONAL = "organisational", _("组织处理")


class Accountability(TimeStampedModel):
    """问责 (seed 四(四)): a sanction against a person and unit, with the problems behind it."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name=_("回头看活动"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("问责方式"), max_length=20, choices=AccountabilityKind.choices)
    person_name = models.CharField(_("被问责人"), max_length=50)
    person_position = models.CharField(_("职务"), max_length=100, blank=True)
    unit = models.CharField(_("单位"), max_length=100)
    division = models.ForeignKey(
        "divisions.Division", verbose_name=_("所在地"), on_delete=models.PROTECT, related_name="+"
    )
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    reason = models.TextField(_("问责事由"))
    problems = models.ManyToManyField(Problem, verbose_name=_("关联问题"), blank=True, related_name="accountabilities")
    # The complaints app sits above the ledger, so a complaint is named by its number, not linked.
    complaint_ref = models.CharField(_("关联举报编号"), max_length=100, blank=True)
    decided_by = models.CharField(_("决定机关"), max_length=100)
    decided_on = models.DateField(_("决定日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("问责记录")
        verbose_name_plural = _("问责记录")
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.person_name} · {self.get_kind_display()}"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("指派给我")
    DUE_SOON = "due_soon", _("即将到期")
    RETURNED = "returned", _("被退回")
    REPORT_RETURNED = "report_returned", _("报告被退回")


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_notifications")
    kind = models.CharField(_("类型"), max_length=20, choices=NotificationKind.choices)
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(TownshipReport, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(_("内容"), max_length=300)
    # Makes repeated daily reminders idempotent ("due_soon:<problem>:<date>").
    key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="uniq_notification_key")
        ]

    def __str__(self) -> str:
        return self.message
