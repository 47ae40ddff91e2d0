from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from lookback.campaigns.models import Campaign, PovertyLine


class PovertyLineInline(admin.TabularInline):
    model = PovertyLine
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "reference_date", "report_deadline", "is_default"]
    inlines = [PovertyLineInline]
