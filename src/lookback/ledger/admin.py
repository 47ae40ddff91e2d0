"""The admin: the system administrator edits the self-check items per campaign and reads the rest.

State, version and the sign-off fields are read-only here: every state change goes through
`services.py` (maker-checker, optimistic locking, the timeline), never through a form that bypasses it.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from lookback.campaigns.models import Campaign
from lookback.ledger import services
from lookback.ledger.models import (
    Accountability,
    Evidence,
    Notification,
    Problem,
    ProblemTransition,
    ReportEvent,
    SelfCheckItem,
    TownshipReport,
)

FROZEN = [
    "state",
    "version",
    "rectified_by",
    "rectified_level",
    "rectified_at",
    "closed_by",
    "closed_at",
    "return_count",
    "fixed_in_data",
    "rule_code",
    "subject_key",
    "found_by",
]


class TransitionInline(admin.TabularInline):
    model = ProblemTransition
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    can_delete = False
    fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Problem)
class ProblemAdmin(SimpleHistoryAdmin):
    list_display = ["id", "division", "source", "dimension", "description", "state", "deadline", "responsible_person"]
    list_filter = ["state", "source", "dimension", "severity", "campaign"]
    search_fields = ["description", "household__household_no", "household__head_name", "responsible_person"]
    raw_id_fields = ["division", "household", "member", "responsible_user"]
    readonly_fields = FROZEN
    inlines = [EvidenceInline, TransitionInline]
    list_select_related = ["division"]


@admin.register(SelfCheckItem)
class SelfCheckItemAdmin(SimpleHistoryAdmin):
    list_display = ["text", "campaign", "unit_level", "order", "clause", "is_active"]
    list_filter = ["campaign", "unit_level", "is_active"]
    list_editable = ["order", "is_active"]
    search_fields = ["text"]
    actions = ["copy_to_default_campaign"]

    @admin.action(description=_("复制所选项目所属活动的全部自查项目到默认活动"))
    def copy_to_default_campaign(self, request: HttpRequest, queryset: QuerySet) -> None:
        target = Campaign.default()
        copied = 0
        for campaign_id in set(queryset.values_list("campaign_id", flat=True)):
            if target is not None and campaign_id != target.pk:
                source = Campaign.objects.get(pk=campaign_id)
                copied += services.copy_self_check_items(source=source, target=target)
        self.message_user(request, _("已复制 %(n)d 个自查项目到“%(c)s”。") % {"n": copied, "c": target})


class ReportEventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TownshipReport)
class TownshipReportAdmin(SimpleHistoryAdmin):
    list_display = ["township", "campaign", "state", "first_submitted_at", "is_late"]
    list_filter = ["campaign", "state", "is_late"]
    readonly_fields = [
        "state",
        "version",
        "docx_file",
        "xlsx_file",
        "docx_sha256",
        "xlsx_sha256",
        "snapshot",
        "first_submitted_at",
        "submitted_at",
        "submitted_by",
        "is_late",
        "reviewed_by",
        "reviewed_at",
    ]
    raw_id_fields = ["township"]
    inlines = [ReportEventInline]


@admin.register(Accountability)
class AccountabilityAdmin(SimpleHistoryAdmin):
    list_display = ["person_name", "kind", "unit", "decided_on", "decided_by"]
    list_filter = ["kind", "campaign"]
    search_fields = ["person_name", "unit", "reason"]
    raw_id_fields = ["division", "problems", "recorded_by"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "message", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "problem", "report"]
