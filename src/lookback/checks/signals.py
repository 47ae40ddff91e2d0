"""What the checks tell higher apps (the problem ledger) without importing them.

All are sent after the run's transaction commits, with `finding_ids` (a list, since runs are
set-based and may open thousands at once):

- `finding_opened(sender=Finding, run, finding_ids)`: new findings, and findings re-opened because
  their subject reappeared or its data changed under a waiver.
- `finding_resolved(sender=Finding, run, finding_ids)`: findings that no longer appear ("fixed in
  data"); the ledger moves their problems to awaiting verification.
- `finding_waived(sender=Finding, finding, waiver)`: a waiver was approved.
- `check_run_finished(sender=CheckRun, run)`.
"""

from django.dispatch import Signal

finding_opened = Signal()
finding_resolved = Signal()
finding_waived = Signal()
check_run_finished = Signal()
