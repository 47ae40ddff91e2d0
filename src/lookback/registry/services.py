"""Writing the registry from its pages (the importers write through `services_import`).

Every function checks who may do it and that the record is in the user's scope, whatever the entry
point; a refusal is a `RegistryError` whose message is shown to the user as is (Chinese).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lookback.accounts.roles import EDIT_REGISTRY
from lookback.campaigns.models import Campaign
from lookback.registry.models import ArchiveCheck, Household
from lookback.registry.selectors import required_archive_items

NOTE_MAX = ArchiveCheck._meta.get_field("note").max_length
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


def record_archive_check(
    *,
    user: Any,
    household: Household,
    checked_on: date,
    present_items: Iterable[str],
    note: str = "",
    campaign: Campaign | None = None,
) -> ArchiveCheck:
    """Record a 一户一档 check: the items of the campaign's list found in the household's archive.

    Items outside the campaign's list are refused (a stale form or a forged request), as is a date in the
    future. An item list in any order is stored in the list's order, without repeats.
    """
    if not can_record_archive_check(user):
        raise NotAllowed(_("您的角色不能登记一户一档核查。"))
    if not Household.objects.in_scope(user).filter(pk=household.pk).exists():
        raise NotAllowed(_("找不到该户，或它不在您的管辖范围内。"))
    if checked_on > timezone.localdate():
        raise RegistryError(_("核查日期不能晚于今天。"), field="checked_on")
    if checked_on < EARLIEST_CHECK:
        raise RegistryError(_("核查日期不能早于 2014 年（建档立卡从 2014 年开始）。"), field="checked_on")
    required = required_archive_items(campaign)
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
    with transaction.atomic():
        check = ArchiveCheck(
            household=household,
            checked_on=checked_on,
            checked_by=user,
            checker_name=user.display_name[:50],
            present_items=[item for item in required if item in chosen],
            note=note,
        )
        check.full_clean()
        check._history_user = user  # also outside a request (the API, the shell)
        check.save()
    return check
