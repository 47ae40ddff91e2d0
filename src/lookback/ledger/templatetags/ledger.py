"""Badges for states and overdue bands, and the unread count for the navigation bar."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from lookback.ledger.models import Band, ReportState, State
from lookback.ledger.selectors import unread_count

register = template.Library()

_BAND_CLASS = {
    Band.OVERDUE: "text-bg-danger",
    Band.DUE_10: "text-bg-warning",
    Band.DUE_20: "text-bg-info",
    Band.LATER: "text-bg-success",
    Band.NONE: "text-bg-light border",
}
_STATE_CLASS = {
    State.OPEN: "text-bg-secondary",
    State.IN_PROGRESS: "text-bg-primary",
    State.AWAITING: "text-bg-warning",
    State.CLOSED: "text-bg-success",
}
_REPORT_CLASS = {
    ReportState.DRAFT: "text-bg-secondary",
    ReportState.SUBMITTED: "text-bg-primary",
    ReportState.ACCEPTED: "text-bg-success",
    ReportState.RETURNED: "text-bg-danger",
}


@register.simple_tag
def band_badge(code: str | None) -> str:
    if not code:
        return ""
    return format_html(
        '<span class="badge {} band band-{}">{}</span>', _BAND_CLASS.get(code, "text-bg-light"), code, Band(code).label
    )


@register.simple_tag
def state_badge(state: str) -> str:
    return format_html(
        '<span class="badge {} state state-{}">{}</span>', _STATE_CLASS.get(state, ""), state, State(state).label
    )


@register.simple_tag
def report_badge(state: str) -> str:
    return format_html('<span class="badge {}">{}</span>', _REPORT_CLASS.get(state, ""), ReportState(state).label)


@register.simple_tag(takes_context=True)
def ledger_unread(context: Any) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    return unread_count(user) if user is not None else 0
