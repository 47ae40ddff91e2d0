"""Writing the registry from its pages (the importers write through `services_import`).

Every function checks who may do it and that the record is in the user's scope, whatever the entry
point; a refusal is a `RegistryError` whose message is shown to the user as is (Chinese).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lookback.accounts.roles import EDIT_REGISTRY
from lookback.campaigns.models import Campaign
from lookback.campaigns.selectors import get_campaign
from lookback.registry.archive_sheets import (
    CHECKED_ON,
    HOUSEHOLD_NO,
    NOTE,
    SheetIssue,
    SheetRow,
    SheetUnusable,
    read_archive_sheet,
)
from lookback.registry.models import ArchiveCheck, Household
from lookback.registry.selectors import households_by_number, latest_archive_checks_on, required_archive_items

NOTE_MAX = ArchiveCheck._meta.get_field("note").max_length
CHECKER_NAME_MAX = ArchiveCheck._meta.get_field("checker_name").max_length
EARLIEST_CHECK = date(2014, 1, 1)  # 建档立卡 began in 2014: an earlier date is a typing error


class RegistryError(Exception):
    """A rule of the registry said no. `message` is shown to the user as is; `field` names the form field."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(RegistryError):
    status = 403


def can_record_archive_check(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.can(EDIT_REGISTRY)


def validate_archive_values(
    *, checked_on: date, present_items: Iterable[str], note: str, required: list[str]
) -> tuple[list[str], str]:
    """The value rules of a 一户一档 check, shared by the household page and the uploaded sheet: the date
    (not in the future, not before 2014), the items (only the campaign's list) and the note's length.

    Returns the items in the list's order without repeats and the stripped note; raises `RegistryError`
    whose `field` is `checked_on`, `present_items` or `note`.
    """
    if checked_on > timezone.localdate():
        raise RegistryError(_("核查日期不能晚于今天。"), field="checked_on")
    if checked_on < EARLIEST_CHECK:
        raise RegistryError(_("核查日期不能早于 2014 年（建档立卡从 2014 年开始）。"), field="checked_on")
    chosen = set(present_items)
    unknown = sorted(chosen - set(required))
    if unknown:
        raise RegistryError(
            _("材料“%(items)s”不在本次活动的一户一档清单中，请刷新页面后重新勾选。") % {"items": "、".join(unknown)},
            field="present_items",
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise RegistryError(_("备注不能超过 %(n)d 个字。") % {"n": NOTE_MAX}, field="note")
    return [item for item in required if item in chosen], note


def record_archive_check(
    *,
    user: Any,
    household: Household,
    checked_on: date,
    present_items: Iterable[str],
    note: str = "",
    checker_name: str = "",
    campaign: Campaign | None = None,
) -> ArchiveCheck:
    """Record a 一户一档 check: the items of the campaign's list found in the household's archive.

    Items outside the campaign's list are refused (a stale form or a forged request), as is a date in the
    future. An item list in any order is stored in the list's order, without repeats. `checker_name` is
    who went through the archive when that is not the user entering it (the sheet's 核查人 column).
    """
    if not can_record_archive_check(user):
        raise NotAllowed(_("您的角色不能登记一户一档核查。"))
    if not Household.objects.in_scope(user).filter(pk=household.pk).exists():
        raise NotAllowed(_("找不到该户，或它不在您的管辖范围内。"))
    required = required_archive_items(campaign)
    items, note = validate_archive_values(
        checked_on=checked_on, present_items=present_items, note=note, required=required
    )
    with transaction.atomic():
        check = ArchiveCheck(
            household=household,
            checked_on=checked_on,
            checked_by=user,
            checker_name=((checker_name or "").strip() or user.display_name)[:CHECKER_NAME_MAX],
            present_items=items,
            note=note,
        )
        # The household and the user are objects checked above: re-querying each costs two queries a row
        # when a sheet records thousands.
        check.full_clean(exclude=["household", "checked_by"])
        check._history_user = user  # also outside a request (the API, the shell)
        check.save()
    return check


@dataclass
class ArchiveSheetOutcome:
    """What an uploaded 一户一档核查表 did: rows recorded, rows equal to a check already there, rows
    without a 核查日期 (not checked, skipped)."""

    recorded: int = 0
    unchanged: int = 0
    skipped: int = 0


class ArchiveSheetRejected(RegistryError):
    """The sheet has bad rows; nothing was stored. `issues` name each row, column and value."""

    def __init__(self, message: str, issues: list[SheetIssue] | None = None) -> None:
        super().__init__(message)
        self.issues = issues or []


def record_archive_sheet(*, user: Any, path: Path, campaign: Campaign | None = None) -> ArchiveSheetOutcome:
    """Record the checks of an uploaded 一户一档核查表 (xlsx or csv), all of them or none.

    A row is recorded when it has a 核查日期 and the household has no check on that date with the same
    items, note and (when the 核查人 cell is filled) checker: the sheet comes pre-filled with each
    household's latest check, so uploading it again, or unchanged, records nothing twice. A row without
    a date is skipped. Any bad row (a 户编号 not found in the user's scope, a date the household page
    would refuse, a cell that is not 是/否) rejects the whole file with every issue listed.
    """
    if not can_record_archive_check(user):
        raise NotAllowed(_("您的角色不能登记一户一档核查。"))
    campaign = campaign or get_campaign()
    required = required_archive_items(campaign)
    try:
        sheet = read_archive_sheet(path, required)
    except SheetUnusable as exc:
        raise ArchiveSheetRejected(exc.message) from exc
    issues = list(sheet.issues)
    bad_rows = {issue.row for issue in issues}
    households = households_by_number(user, sorted({row.household_no for row in sheet.rows if row.household_no}))
    columns = {"checked_on": CHECKED_ON, "note": NOTE, "present_items": HOUSEHOLD_NO}
    to_record: list[tuple[SheetRow, Household, list[str], str]] = []
    skipped = 0
    for row in sheet.rows:
        household = households.get(row.household_no)
        if row.household_no and household is None:
            issues.append(
                SheetIssue(row.number, HOUSEHOLD_NO, row.household_no, _("找不到该户编号，或该户不在您的管辖范围内"))
            )
            continue
        if household is None:  # no 户编号: the reader has said so
            continue
        if row.checked_on is None:
            if row.number not in bad_rows:
                skipped += 1
            continue
        # The date rules also on a row with a bad cell elsewhere, so that one upload lists every error.
        try:
            items, note = validate_archive_values(
                checked_on=row.checked_on, present_items=row.present, note=row.note, required=required
            )
        except RegistryError as exc:
            column = columns.get(exc.field or "", CHECKED_ON)
            value = row.raw_date if column == CHECKED_ON else (row.note if column == NOTE else row.household_no)
            issues.append(SheetIssue(row.number, column, value, exc.message.rstrip("。")))
            continue
        if row.number not in bad_rows:
            to_record.append((row, household, items, note))
    if issues:
        issues.sort(key=lambda issue: issue.row)
        raise ArchiveSheetRejected(
            ngettext(
                "文件中有 %(n)d 处错误，整个文件都没有保存。请改正后重新上传。",
                "文件中有 %(n)d 处错误，整个文件都没有保存。请改正后重新上传。",
                len(issues),
            )
            % {"n": len(issues)},
            issues,
        )
    outcome = ArchiveSheetOutcome(skipped=skipped)
    existing = latest_archive_checks_on(user, [(household.pk, row.checked_on) for row, household, _i, _n in to_record])
    with transaction.atomic():
        for row, household, items, note in to_record:
            same_day = existing.get((household.pk, row.checked_on))
            if same_day is not None and _same_check(same_day, items, note, row.checker_name):
                outcome.unchanged += 1
                continue
            record_archive_check(
                user=user,
                household=household,
                checked_on=row.checked_on,
                present_items=items,
                note=note,
                checker_name=row.checker_name,
                campaign=campaign,
            )
            outcome.recorded += 1
    return outcome


def _same_check(check: ArchiveCheck, items: list[str], note: str, checker_name: str) -> bool:
    # An empty 核查人 cell means "the uploader": it does not make a row differ from a check already there.
    return (
        list(check.present_items or []) == items
        and (check.note or "") == note
        and (not checker_name or check.checker_name == checker_name[:CHECKER_NAME_MAX])
    )
