from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "lookback.campaigns"
    verbose_name = _("回头看活动")
