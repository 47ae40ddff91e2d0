"""Text written for other people to read later is in the site's language, not the acting user's.

A user may choose English for their own pages, but a notification, a timeline note, a problem
description or a township report they cause is stored once and read by others (and sent upward on
paper), so it is produced in `settings.LANGUAGE_CODE` (Chinese).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.utils import translation

F = TypeVar("F", bound=Callable[..., Any])


def stored_text(message: str, values: Mapping[str, Any] | None = None) -> str:
    """Translate a message marked with `gettext_noop` into the site's language and fill in `values`."""
    with translation.override(settings.LANGUAGE_CODE):
        text = translation.gettext(message)
    return text % values if values is not None else text


def in_site_language(func: F) -> F:
    """Run `func` with the site's language active (documents and exports that leave the user's screen)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with translation.override(settings.LANGUAGE_CODE):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
