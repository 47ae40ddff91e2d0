from django import template

from lookback.core.masking import mask_id_number, mask_phone
from lookback.core.yesno import yes_no_label

register = template.Library()


@register.filter
def id_number(value: str | None, show_pii: bool) -> str:
    """`{{ member.id_number|id_number:show_pii }}`: masked unless the user may see it."""
    return (value or "") if show_pii else mask_id_number(value)


@register.filter
def phone(value: str | None, show_pii: bool) -> str:
    return (value or "") if show_pii else mask_phone(value)


@register.filter
def yes_no(value: bool | None) -> str:
    return yes_no_label(value) or "—"


@register.filter
def can(user: object, capability: str) -> bool:
    """`{% if user|can:"import_data" %}`: templates cannot call `user.can(...)` with an argument."""
    check = getattr(user, "can", None)
    return bool(check and check(capability))
