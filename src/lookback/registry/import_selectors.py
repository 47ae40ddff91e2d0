"""Reading import batches for the import pages; always scoped to the user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lookback.registry.models import ImportBatch
from lookback.registry.selectors import import_batches_for_user


def batches_for_user(user: Any) -> QuerySet[ImportBatch]:
    return import_batches_for_user(user).select_related("created_by")


def get_batch(user: Any, pk: int) -> ImportBatch | None:
    return batches_for_user(user).filter(pk=pk).first()


def upload_batches(user: Any, token: str) -> list[ImportBatch]:
    """The files of one upload, in import order; only the user who uploaded them sees the group."""
    batches = batches_for_user(user).filter(created_by=user, details__upload=token)
    return sorted(batches, key=lambda b: (b.details.get("order", 99), b.pk))
