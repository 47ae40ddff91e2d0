from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecksConfig(AppConfig):
    name = "lookback.checks"
    label = "checks"
    verbose_name = _("规则检查")

    def ready(self) -> None:
        # The built-in catalogue, then any other app's `check_rules` module (funds, ledger …): a
        # higher app adds rules without the engine changing.
        from django.utils.module_loading import autodiscover_modules

        from lookback.checks import rules  # noqa: F401

        autodiscover_modules("check_rules")
