"""Background work of the registry: imports run here so a large file never holds up a web request."""

from __future__ import annotations

import logging

from django_tasks import task

from lookback.registry.models import ImportBatch

logger = logging.getLogger(__name__)


@task()
def import_batches(batch_ids: list[int]) -> dict[str, str]:
    """Import the given batches in order (households first); returns each batch's final status."""
    from lookback.registry.services_import import run_batch

    result = {}
    for batch in sorted(ImportBatch.objects.filter(pk__in=batch_ids), key=lambda b: batch_ids.index(b.pk)):
        if batch.status not in (ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING):
            continue  # already done (a retried task must not import twice)
        run_batch(batch=batch)
        result[str(batch.pk)] = batch.status
    return result
