"""The registry: households that exited poverty, their members, helpers, measures, visits, the other
departments' name lists, national snapshots and the import batches that brought them in.

Field names follow GLOSSARY.md; Chinese verbose names are the headers of `spec/import-format.md`.
Code-list fields store the current label (see `core.codes`). Yes/no fields are nullable: an empty
cell is "unknown", not "no".
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from lookback.core import codes
from lookback.core.models import TimeStampedModel
from lookback.core.scoping import ScopedManager
from lookback.core.text import pinyin_initials

# History tables get a row for every row an import writes and are read one record at a time (the household
# page: a household's rows by id, its members' by household). Their copies of the registry's lookup
# indexes were never read, yet a first load of a million members built each again; and a database check
# of the acting user on every history row only costs (Django still sets the user to NULL on deletion).
_HISTORY_UNINDEXED = (
    "batch", "village", "household_no", "member_no", "id_number", "head_id_number", "head_name_initials",
    "name_initials", "division_code", "exit_year", "helper", "user", "visited_at", "checked_by",
)  # fmt: skip


# Columns searched by prefix (`__startswith`, LIKE 'x%') and looked up by equality, never sorted or
# compared by range: on PostgreSQL one pattern_ops index serves both, where `db_index=True` built two
# (a plain one, which LIKE cannot use under a non-C collation, and a pattern_ops one). A first load of
# 1M members builds each again at its end: the plain ones took 3 of its 11 s. SQLite ignores opclasses.
_SEARCH_OPCLASSES = ["varchar_pattern_ops"]


def _history(*excluded: str) -> HistoricalRecords:
    return HistoricalRecords(
        excluded_fields=[*excluded, "updated_at"], no_db_index=list(_HISTORY_UNINDEXED), user_db_constraint=False
    )


def _batch() -> models.ForeignKey:
    """The import batch that last wrote the row. No database constraint: batches are only ever added, and
    PostgreSQL and SQLite would otherwise look the batch up once for each of a million imported rows."""
    return models.ForeignKey(
        "ImportBatch",
        verbose_name=_("导入批次"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )


def _yes_no(label: str) -> models.BooleanField:
    return models.BooleanField(label, null=True, blank=True)


def _money(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=12, decimal_places=2, null=True, blank=True)


class ImportBatch(models.Model):
    """One imported file: who, when, what, and what it changed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("导入中")
        STORED = "stored", _("已导入")
        REJECTED = "rejected", _("已拒绝")
        FAILED = "failed", _("出错")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导入人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    kind = models.CharField(_("表格类型"), max_length=40, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # Scope of the importing user at the time, so the history page can be scoped like everything else.
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True, db_index=True)
    rows_new = models.PositiveIntegerField(_("新增"), default=0)
    rows_updated = models.PositiveIntegerField(_("更新"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("未变"), default=0)
    warnings = models.JSONField(_("警告"), default=list, blank=True)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    report_path = models.CharField(_("错误报告文件"), max_length=500, blank=True)
    # Per-kind counts, recognised sheets, issue totals, the uploaded file's path and the import options.
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class Household(TimeStampedModel):
    household_no = models.CharField(_("户编号"), max_length=40, unique=True)
    village = models.ForeignKey(
        "divisions.Division", verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="households"
    )
    # The village's 12-digit code, kept on the row so that one indexed prefix filter scopes any query.
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    head_name = models.CharField(_("户主姓名"), max_length=50)
    head_name_initials = models.CharField(max_length=50, blank=True, editable=False)
    head_id_number = models.CharField(_("户主证件号码"), max_length=30)
    size = models.PositiveSmallIntegerField(_("家庭人口数"))
    attribute = models.CharField(_("贫困户属性"), max_length=20, choices=codes.HOUSEHOLD_ATTRIBUTE.choices)
    exit_status = models.CharField(_("脱贫状态"), max_length=20, choices=codes.EXIT_STATUS.choices)
    exit_year = models.PositiveSmallIntegerField(_("脱贫年度"), null=True, blank=True, db_index=True)
    identification_standard = models.CharField(
        _("识别标准"), max_length=10, choices=codes.IDENTIFICATION_STANDARD.choices, blank=True
    )
    identification_year = models.PositiveSmallIntegerField(_("识别年度"), null=True, blank=True)
    main_cause = models.CharField(_("主要致贫原因"), max_length=20, choices=codes.POVERTY_CAUSE.choices)
    other_causes = models.JSONField(_("其他致贫原因"), default=list, blank=True)
    income_per_capita = _money(_("人均纯收入（元）"))
    wage_income = _money(_("工资性收入（元）"))
    business_income = _money(_("生产经营性收入（元）"))
    property_income = _money(_("财产性收入（元）"))
    transfer_income = _money(_("转移性收入（元）"))
    business_costs = _money(_("生产经营性支出（元）"))
    house_grade = models.CharField(_("住房安全等级"), max_length=4, choices=codes.HOUSE_GRADE.choices, blank=True)
    house_area = models.DecimalField(_("住房面积（㎡）"), max_digits=8, decimal_places=2, null=True, blank=True)
    renovation_status = models.CharField(
        _("危房改造状态"), max_length=10, choices=codes.RENOVATION_STATUS.choices, blank=True
    )
    is_relocated = _yes_no(_("是否造福工程搬迁户"))
    relocation_year = models.PositiveSmallIntegerField(_("搬迁年度"), null=True, blank=True)
    moved_in = _yes_no(_("是否已入住"))
    safe_water = _yes_no(_("饮水是否安全"))
    has_electricity = _yes_no(_("是否通生活用电"))
    has_sanitary_toilet = _yes_no(_("有无卫生厕所"))
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    extra = models.JSONField(_("其他列"), default=dict, blank=True)
    batch = _batch()
    history = _history("head_name_initials")

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"
    HELPER_PATH = "assignments__helper__user"

    class Meta:
        verbose_name = _("脱贫户")
        verbose_name_plural = _("脱贫户")
        ordering = ["division_code", "household_no"]
        indexes = [
            # Searched by prefix and by equality only: see _SEARCH_OPCLASSES.
            models.Index(fields=["head_name_initials"], name="household_head_initials", opclasses=_SEARCH_OPCLASSES),
            models.Index(fields=["head_id_number"], name="household_head_id_number", opclasses=_SEARCH_OPCLASSES),
        ]

    def __str__(self) -> str:
        return f"{self.head_name}（{self.household_no}）"

    def save(self, *args, **kwargs) -> None:
        self.head_name_initials = pinyin_initials(self.head_name)
        if self.village_id and not self.division_code:
            self.division_code = self.village.code
        super().save(*args, **kwargs)


class Member(TimeStampedModel):
    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="members")
    member_no = models.CharField(_("人编号"), max_length=40, null=True, blank=True)  # unique: Meta
    name = models.CharField(_("姓名"), max_length=50)
    name_initials = models.CharField(max_length=50, blank=True, editable=False)
    sex = models.CharField(_("性别"), max_length=2, choices=codes.SEX.choices, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=30)
    relation = models.CharField(_("与户主关系"), max_length=10, choices=codes.RELATION.choices)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    political_status = models.CharField(
        _("政治面貌"), max_length=10, choices=codes.POLITICAL_STATUS.choices, blank=True
    )
    education = models.CharField(_("文化程度"), max_length=10, choices=codes.EDUCATION.choices, blank=True)
    school_status = models.CharField(_("在校生状况"), max_length=10, choices=codes.SCHOOL_STATUS.choices, blank=True)
    # Several values may apply (`残疾,长期慢性病`); stored joined by "," in list order.
    health = models.CharField(_("健康状况"), max_length=40)
    disability_type = models.CharField(_("残疾类别"), max_length=20, blank=True)
    labour_skill = models.CharField(_("劳动技能"), max_length=20, choices=codes.LABOUR_SKILL.choices)
    work_status = models.CharField(_("务工状况"), max_length=20, choices=codes.WORK_STATUS.choices, blank=True)
    work_months = models.DecimalField(_("务工时间（月）"), max_digits=5, decimal_places=1, null=True, blank=True)
    has_basic_medical = _yes_no(_("是否参加城乡居民基本医疗保险"))
    has_serious_illness = _yes_no(_("是否参加大病保险"))
    has_stacked_medical = _yes_no(_("是否参加医疗叠加保险"))
    has_employee_medical = _yes_no(_("是否参加城镇职工基本医疗保险"))
    is_dibao = _yes_no(_("是否享受低保"))
    is_tekun = _yes_no(_("是否特困供养人员"))
    has_pension = _yes_no(_("是否参加城乡居民基本养老保险"))
    status = models.CharField(_("人员状态"), max_length=10, choices=codes.MEMBER_STATUS.choices, default="正常")
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    extra = models.JSONField(_("其他列"), default=dict, blank=True)
    batch = _batch()
    history = _history("name_initials")

    objects = ScopedManager()
    SCOPE_FIELD = "household__division_code"
    HELPER_PATH = "household__assignments__helper__user"

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household", "id"]
        # Not `unique=True`, which on PostgreSQL builds two indexes (see _SEARCH_OPCLASSES); 人编号 is only
        # looked up whole, and the pattern_ops index is the quicker to build (byte-wise comparisons).
        constraints = [
            models.UniqueConstraint(fields=["member_no"], name="uniq_member_no", opclasses=_SEARCH_OPCLASSES)
        ]
        indexes = [
            models.Index(fields=["name_initials"], name="member_name_initials", opclasses=_SEARCH_OPCLASSES),
            models.Index(fields=["id_number"], name="member_id_number", opclasses=_SEARCH_OPCLASSES),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_initials = pinyin_initials(self.name)
        super().save(*args, **kwargs)


class Helper(TimeStampedModel):
    """A cadre assigned to households (帮扶责任人). Keyed by ID number, else by name and phone."""

    name = models.CharField(_("帮扶责任人"), max_length=50)
    id_number = models.CharField(_("证件号码"), max_length=30, null=True, blank=True, unique=True)
    work_unit = models.CharField(_("工作单位"), max_length=100)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="helper",
    )
    history = _history()

    objects = ScopedManager()
    # A helper belongs to the places of the households they help.
    SCOPE_FIELD = "assignments__household__division_code"
    HELPER_PATH = "user"

    class Meta:
        verbose_name = _("帮扶责任人")
        verbose_name_plural = _("帮扶责任人")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.work_unit}）"


class Assignment(TimeStampedModel):
    """挂钩帮扶: a helper assigned to a household."""

    helper = models.ForeignKey(
        Helper, verbose_name=_("帮扶责任人"), on_delete=models.CASCADE, related_name="assignments"
    )
    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="assignments")
    is_first = models.BooleanField(_("是否第一帮扶责任人"), default=True)
    batch = _batch()
    history = _history()

    objects = ScopedManager()
    SCOPE_FIELD = "household__division_code"
    HELPER_PATH = "helper__user"

    class Meta:
        verbose_name = _("挂钩帮扶")
        verbose_name_plural = _("挂钩帮扶")
        constraints = [models.UniqueConstraint(fields=["helper", "household"], name="uniq_assignment")]

    def __str__(self) -> str:
        return f"{self.helper.name} → {self.household.household_no}"


class Measure(TimeStampedModel):
    """帮扶措施. Keyed by (household, type, content, start date)."""

    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="measures")
    measure_type = models.CharField(_("措施类型"), max_length=20, choices=codes.MEASURE_TYPE.choices)
    content = models.CharField(_("措施内容"), max_length=500)
    project_no = models.CharField(_("项目编号"), max_length=50, blank=True)
    amount = _money(_("投入资金（元）"))
    responsible_person = models.CharField(_("责任人"), max_length=50, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("完成日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=codes.MEASURE_STATUS.choices, blank=True)
    batch = _batch()
    history = _history()

    objects = ScopedManager()
    SCOPE_FIELD = "household__division_code"
    HELPER_PATH = "household__assignments__helper__user"

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        ordering = ["household", "start_date", "id"]

    def __str__(self) -> str:
        return f"{self.measure_type}：{self.content}"


class Visit(TimeStampedModel):
    """入户走访 / 签到. Keyed by (household, helper name, time)."""

    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="visits")
    helper = models.ForeignKey(
        Helper, verbose_name=_("帮扶责任人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    helper_name = models.CharField(_("帮扶责任人"), max_length=50)
    visited_at = models.DateTimeField(_("走访时间"), db_index=True)
    visit_type = models.CharField(_("走访类型"), max_length=20, choices=codes.VISIT_TYPE.choices, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=10, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=10, decimal_places=6, null=True, blank=True)
    content = models.TextField(_("走访内容"), blank=True)
    poverty_handbook_filled = _yes_no(_("扶贫手册是否填写"))
    assignment_handbook_filled = _yes_no(_("挂钩帮扶手册是否填写"))
    needs = models.TextField(_("群众需求"), blank=True)
    knows_helper = _yes_no(_("是否知晓帮扶责任人"))
    satisfaction = models.CharField(_("满意度"), max_length=10, choices=codes.SATISFACTION.choices, blank=True)
    batch = _batch()
    history = _history()

    objects = ScopedManager()
    SCOPE_FIELD = "household__division_code"
    HELPER_PATH = "household__assignments__helper__user"

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["household", "-visited_at"]
        constraints = [models.UniqueConstraint(fields=["household", "helper_name", "visited_at"], name="uniq_visit")]

    def __str__(self) -> str:
        return f"{self.helper_name} {self.visited_at:%Y-%m-%d}"


# 一户一档: what a household's identification archive must hold, in the order of the procedure (户申请、
# 村民主评议、村公示、乡镇审核公示、县审批公告 — "两公示一公告" — the registration form, the income
# calculation and the assistance plan; on exit the household's signed confirmation and the exit notices).
# The default of the campaign parameter `archive_items`; the rule R3-28 falls back to the same list.
ARCHIVE_ITEMS_DEFAULT: tuple[str, ...] = (
    "贫困户申请书",
    "民主评议记录",
    "村级公示",
    "乡镇审核公示",
    "县级审批公告",
    "贫困户登记表",
    "收入核算表",
    "帮扶计划",
    "脱贫退出确认书",
    "退出公示公告",
)


class ArchiveCheck(TimeStampedModel):
    """一户一档核查: on a date, someone went through a household's archive and noted which items it holds.

    The items found *present* are stored, not the missing ones: the required list is a campaign parameter
    (`archive_items`), so "required minus present" is worked out against the list as it stands when the
    rules run, and an item added to the list later counts as missing until a check finds it.
    """

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="archive_checks"
    )
    checked_on = models.DateField(_("核查日期"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The checker's name as shown, kept when the login is gone (and for checks recorded without one).
    checker_name = models.CharField(_("核查人"), max_length=50, blank=True)
    present_items = models.JSONField(_("已有材料"), default=list, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    history = _history()

    objects = ScopedManager()
    SCOPE_FIELD = "household__division_code"
    HELPER_PATH = "household__assignments__helper__user"

    class Meta:
        verbose_name = _("一户一档核查")
        verbose_name_plural = _("一户一档核查")
        ordering = ["household", "-checked_on", "-id"]
        indexes = [models.Index(fields=["household", "checked_on"], name="archive_check_household_date")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.checked_on}"

    def clean(self) -> None:
        items = self.present_items
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValidationError({"present_items": _("已有材料必须是材料名称的列表。")})

    def missing_items(self, required: list[str] | tuple[str, ...]) -> list[str]:
        """The required items this check did not find, in the order of `required`."""
        present = set(self.present_items or [])
        return [item for item in required if item not in present]


class DeptListKind(models.TextChoices):
    DIBAO = "dibao", _("低保名单")
    TEKUN = "tekun", _("特困供养名单")
    MEDICAL = "medical", _("城乡居民医保参保名单")
    SERIOUS_ILLNESS = "serious_illness", _("大病保险名单")
    STACKED_MEDICAL = "stacked_medical", _("医疗叠加保险名单")
    STUDENTS = "students", _("在校学生名单")
    EDU_SUBSIDY = "edu_subsidy", _("教育资助发放名单")
    HOUSING = "housing", _("危房改造名单")
    DISABLED = "disabled", _("残疾人名单")
    DEATHS = "deaths", _("死亡人员名单")
    EMPLOYMENT = "employment", _("就业人员名单")
    PUBLIC_JOBS = "public_jobs", _("公益性岗位名单")
    RELOCATION = "relocation", _("造福工程搬迁名单")
    LOANS = "loans", _("扶贫小额信贷名单")


class DeptListEntry(TimeStampedModel):
    """One person on another department's name list (部门比对名单). Keyed by (kind, ID number).

    Each kind's extra columns (spec table) are kept in `attributes` under their Chinese headers; the
    ones rules compare on are also typed: `category` (低保类别, 供养方式, 学段, 残疾类别, 鉴定等级,
    岗位类型, 资助项目), `status` (参保状态, 改造状态, 是否入住, 贷款状态), `amount`, `start_date`
    (起始/发放/竣工/死亡/上岗/放款/入住日期), `end_date` (到期日期), `year` (参保年度, 搬迁年度).
    Entries are matched to members by ID number; an entry needs no member to exist.
    """

    kind = models.CharField(_("名单类型"), max_length=20, choices=DeptListKind.choices)
    id_number = models.CharField(_("证件号码"), max_length=30, db_index=True)
    name = models.CharField(_("姓名"), max_length=50)
    category = models.CharField(_("类别"), max_length=50, blank=True)
    status = models.CharField(_("状态"), max_length=20, blank=True)
    amount = _money(_("金额（元）"))
    start_date = models.DateField(_("日期"), null=True, blank=True)
    end_date = models.DateField(_("到期日期"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    attributes = models.JSONField(_("其他列"), default=dict, blank=True)
    # The division of the matched member's household at import time, for scoping; blank when unmatched.
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True, db_index=True)
    batch = _batch()
    history = _history()

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("部门比对名单")
        verbose_name_plural = _("部门比对名单")
        ordering = ["kind", "id_number"]
        constraints = [models.UniqueConstraint(fields=["kind", "id_number"], name="uniq_dept_list_entry")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.name}"


class NationalSnapshot(models.Model):
    """A dated import of the national system's household and member sheets, kept for comparison."""

    snapshot_date = models.DateField(_("快照日期"), db_index=True)
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    batch = _batch()
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True, db_index=True)

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("国扶快照")
        verbose_name_plural = _("国扶快照")
        ordering = ["-snapshot_date", "-id"]

    def __str__(self) -> str:
        return f"国扶快照 {self.snapshot_date}"


class NationalHousehold(models.Model):
    """A household row of a snapshot; `data` holds the normalised fields keyed by model field name."""

    snapshot = models.ForeignKey(NationalSnapshot, on_delete=models.CASCADE, related_name="households")
    household_no = models.CharField(_("户编号"), max_length=40)
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    data = models.JSONField(default=dict)

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("国扶快照户")
        verbose_name_plural = _("国扶快照户")
        constraints = [models.UniqueConstraint(fields=["snapshot", "household_no"], name="uniq_national_household")]

    def __str__(self) -> str:
        return self.household_no


class NationalMember(models.Model):
    snapshot = models.ForeignKey(NationalSnapshot, on_delete=models.CASCADE, related_name="members")
    household_no = models.CharField(_("户编号"), max_length=40, db_index=True)
    member_no = models.CharField(_("人编号"), max_length=40, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=30, db_index=True)
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    data = models.JSONField(default=dict)

    objects = ScopedManager()
    SCOPE_FIELD = "division_code"

    class Meta:
        verbose_name = _("国扶快照成员")
        verbose_name_plural = _("国扶快照成员")

    def __str__(self) -> str:
        return self.member_no or self.id_number
