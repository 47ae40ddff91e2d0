"""Background work of the ledger, through Django's task framework (django-tasks' database backend)."""

from __future__ import annotations

from django_tasks import task

from lookback.ledger import services


@task()
def send_due_reminders() -> int:
    """The daily reminder: responsible accounts hear of their problems due within 10 days (idempotent per
    day, so running it twice does no harm). Scheduled by `lookback ledger_reminders --enqueue` from cron."""
    return services.send_due_reminders()
