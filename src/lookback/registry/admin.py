"""The admin for the registry: for the system administrator to correct a record or link a helper's login;
offices work through the pages and imports."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from lookback.registry.models import (
    ArchiveCheck,
    Assignment,
    DeptListEntry,
    Helper,
    Household,
    ImportBatch,
    Measure,
    Member,
    NationalSnapshot,
    Visit,
)


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    fields = ["member_no", "name", "sex", "id_number", "relation", "health", "labour_skill", "status"]
    show_change_link = True


@admin.register(Household)
class HouseholdAdmin(SimpleHistoryAdmin):
    list_display = ["household_no", "head_name", "village", "size", "attribute", "exit_year", "main_cause"]
    list_filter = ["attribute", "exit_year", "main_cause"]
    search_fields = ["household_no", "head_name", "head_id_number", "head_name_initials"]
    raw_id_fields = ["village", "batch"]
    inlines = [MemberInline]
    list_select_related = ["village"]


@admin.register(Member)
class MemberAdmin(SimpleHistoryAdmin):
    list_display = ["name", "member_no", "household", "relation", "sex", "status"]
    search_fields = ["name", "member_no", "id_number", "household__household_no"]
    raw_id_fields = ["household", "batch"]
    list_select_related = ["household"]


@admin.register(Helper)
class HelperAdmin(SimpleHistoryAdmin):
    list_display = ["name", "work_unit", "position", "phone", "user"]
    search_fields = ["name", "work_unit", "phone", "id_number"]
    autocomplete_fields = ["user"]


@admin.register(Assignment)
class AssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["helper", "household", "is_first"]
    raw_id_fields = ["helper", "household", "batch"]
    list_select_related = ["helper", "household"]


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    list_display = ["household", "measure_type", "content", "amount", "start_date", "status"]
    list_filter = ["measure_type", "status"]
    raw_id_fields = ["household", "batch"]
    search_fields = ["household__household_no", "content"]


@admin.register(Visit)
class VisitAdmin(SimpleHistoryAdmin):
    list_display = ["household", "helper_name", "visited_at", "visit_type", "satisfaction"]
    raw_id_fields = ["household", "helper", "batch"]
    search_fields = ["household__household_no", "helper_name"]


@admin.register(ArchiveCheck)
class ArchiveCheckAdmin(SimpleHistoryAdmin):
    list_display = ["household", "checked_on", "checker_name", "note"]
    raw_id_fields = ["household", "checked_by"]
    search_fields = ["household__household_no", "checker_name"]
    list_select_related = ["household"]


@admin.register(DeptListEntry)
class DeptListEntryAdmin(SimpleHistoryAdmin):
    list_display = ["kind", "name", "id_number", "category", "status"]
    list_filter = ["kind"]
    search_fields = ["name", "id_number"]
    raw_id_fields = ["batch"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["file_name", "kind", "status", "created_by", "created_at", "rows_new", "rows_updated"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]


@admin.register(NationalSnapshot)
class NationalSnapshotAdmin(admin.ModelAdmin):
    list_display = ["snapshot_date", "created_at", "division_code"]
