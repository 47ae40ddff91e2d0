"""Background work: a rule run started from a page or the API (django-tasks; a worker runs it with
`lookback db_worker`, tests run it at once with the immediate backend)."""

from __future__ import annotations

from django_tasks import task

from lookback.checks.engine import run_checks
from lookback.checks.models import CheckRun


@task()
def run_checks_task(run_id: int) -> dict[str, int]:
    run = CheckRun.objects.select_related("campaign").get(pk=run_id)
    if run.status != CheckRun.Status.QUEUED:
        return {"found": run.found, "opened": run.opened, "fixed": run.fixed}
    result = run_checks(campaign=run.campaign, run=run, user=run.started_by)
    rec = result.reconciliation
    return {"found": result.run.found, "opened": rec.opened, "fixed": rec.fixed}
