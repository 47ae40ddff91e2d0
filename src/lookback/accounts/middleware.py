"""The interface language (the user's own choice, else the site default — never the browser's) and
sliding session expiry.

Django's LocaleMiddleware would follow Accept-Language, so every browser set to English (most office
machines with an English Windows) would get an English interface nobody asked for. Chinese is the default
for everyone; English only for whoever chose it.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from lookback.accounts.models import ApiToken

logger = logging.getLogger(__name__)

# When the session's expiry was last written (seconds since the epoch), kept in the session itself.
REFRESHED_KEY = "_refreshed_at"


def supported_language(code: str | None) -> str | None:
    """The code if it is one of settings.LANGUAGES (and has a catalogue), else None."""
    if code and code in dict(settings.LANGUAGES) and translation.check_for_language(code):
        return code
    return None


def _bearer_language(request: HttpRequest) -> str | None:
    # An API call with a token is authenticated inside the view, after this middleware has run: look up the
    # token's owner's language with one indexed query that has no side effects (the API's own authentication
    # records the use).
    header = request.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return (
        ApiToken.objects.filter(key_hash=ApiToken.hash_key(key.strip()), revoked_at__isnull=True, user__is_active=True)
        .values_list("user__language", flat=True)
        .first()
    )


def language_for(request: HttpRequest) -> str:
    """Signed in: the account's choice. Not signed in: the login page's switch (a cookie). Else the default."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = getattr(user, "language", "")
    elif request.path_info.startswith("/api/") and "Authorization" in request.headers:
        chosen = _bearer_language(request)
    else:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return supported_language(chosen) or settings.LANGUAGE_CODE


class UserLanguageMiddleware:
    """Activates language_for(request) for the request; goes after AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        # The same URL answers in another language for another cookie: caches must keep them apart.
        patch_vary_headers(response, ["Cookie"])
        return response


class SlidingSessionMiddleware(SessionMiddleware):
    """Sessions end after SESSION_COOKIE_AGE idle; activity writes the new expiry at most every few minutes.

    Django's SESSION_SAVE_EVERY_REQUEST writes the session row on every request, and a page polling an
    import's progress every second would then write once a second. On SQLite a long import holds the one
    write lock: such a write waits out the busy timeout and fails, and Django answers 400 — the progress
    page stopped polling. Here an unchanged session is written once per SESSION_REFRESH_SECONDS, and if
    that refresh cannot be written the request goes on: the session stays valid, only its expiry is not
    pushed back this time. A session the request changed (sign-in, sign-out) still fails loudly.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        refresh_only = False
        if session is not None and session.accessed and not session.modified and not session.is_empty():
            now = int(time.time())
            if now - session.get(REFRESHED_KEY, 0) >= settings.SESSION_REFRESH_SECONDS:
                session[REFRESHED_KEY] = now
                refresh_only = True
        try:
            return super().process_response(request, response)
        except SessionInterrupted:
            if not refresh_only:
                raise
            logger.warning("session expiry not refreshed for %s: the session could not be written", request.path)
            patch_vary_headers(response, ["Cookie"])
            return response
