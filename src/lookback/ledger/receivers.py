"""The rule source of the ledger: the checks app announces findings with signals (it sits below the
ledger and never imports it), and these receivers open, re-open and move problems.

Signals (`lookback.checks.signals`), sent after the rule run's transaction commits:
- `finding_opened(sender=Finding, run, finding_ids)`: new or re-opened findings → open a problem for each
  finding without a live one (set-based: one query per chunk, bulk inserts);
- `finding_resolved(sender=Finding, run, finding_ids)`: findings that no longer appear → their problems
  go to 待核验 (never straight to 已销号: a person verifies);
- `finding_waived(sender=Finding, finding, waiver)`: an approved waiver → the problem is closed with the
  waiver's approver as the verifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps

from lookback.ledger import services

CHUNK = 2000


def connect() -> None:
    if not apps.is_installed("lookback.checks"):
        return
    from lookback.checks import signals

    signals.finding_opened.connect(on_findings_opened, dispatch_uid="ledger.findings_opened")
    signals.finding_resolved.connect(on_findings_resolved, dispatch_uid="ledger.findings_resolved")
    if hasattr(signals, "finding_waived"):
        signals.finding_waived.connect(on_finding_waived, dispatch_uid="ledger.finding_waived")


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _finding_model() -> Any:
    return apps.get_model("checks", "Finding")


def on_findings_opened(sender: Any = None, *, finding_ids: Iterable[int] = (), **kwargs: Any) -> None:
    for chunk in _chunks(finding_ids):
        services.open_problems_for_findings(_finding_model().objects.filter(pk__in=chunk))


def on_findings_resolved(sender: Any = None, *, finding_ids: Iterable[int] = (), **kwargs: Any) -> None:
    for chunk in _chunks(finding_ids):
        keys = list(
            _finding_model().objects.filter(pk__in=chunk).values_list("campaign_id", "rule_code", "subject_key")
        )
        services.move_problems_fixed_in_data(keys)


def on_finding_waived(sender: Any = None, *, finding: Any = None, waiver: Any = None, **kwargs: Any) -> None:
    if finding is None:
        return
    services.close_waived(
        campaign_id=finding.campaign_id,
        rule_code=finding.rule_code,
        subject_key=finding.subject_key,
        approver=getattr(waiver, "decided_by", None),
        reason=getattr(waiver, "reason", "") or "",
    )
