from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "lookback.registry"
    verbose_name = _("建档立卡台账")
