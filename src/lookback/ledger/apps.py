from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "lookback.ledger"
    verbose_name = _("问题台帐")

    def ready(self) -> None:
        # The checks app sits below the ledger and tells it about findings through signals (DESIGN.md).
        from lookback.ledger import receivers

        receivers.connect()
