from django.contrib import admin

from lookback.checks.models import CheckRun, Finding, RuleRunStat, Waiver


class RuleRunStatInline(admin.TabularInline):
    model = RuleRunStat
    extra = 0
    can_delete = False
    readonly_fields = ("rule_code", "status", "seconds", "found", "opened", "fixed", "message")


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "created_at", "started_by", "source", "scope_prefix", "status", "found", "opened")
    list_filter = ("status", "source", "campaign")
    readonly_fields = [f.name for f in CheckRun._meta.fields]
    inlines = [RuleRunStatInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    # Findings are written by the engine only; the admin is for looking.
    list_display = ("id", "rule_code", "household_no", "division_code", "status", "opened_on", "fixed_on")
    list_filter = ("status", "dimension", "rule_code")
    search_fields = ("household_no", "division_code", "detail")
    readonly_fields = [f.name for f in Finding._meta.fields]
    raw_id_fields = ("household", "member")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Waiver)
class WaiverAdmin(admin.ModelAdmin):
    list_display = ("id", "finding", "status", "requested_by", "requested_at", "decided_by")
    list_filter = ("status", "requested_role")
    raw_id_fields = ("finding",)
    readonly_fields = ("fingerprint", "requested_at", "decided_at")
