"""Test settings: the production settings, with plain HTTP, a throw-away data folder and fast hashing."""

import os
import tempfile

os.environ.setdefault("LOOKBACK_HTTPS", "0")
os.environ.setdefault("LOOKBACK_DATA_DIR", tempfile.mkdtemp(prefix="lookback-test-"))

from lookback.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
# Tasks run at once inside the request, so tests need no worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared in-memory database: the live server of the browser tests then answers
    # on its own connection, and two overlapping requests wait on WAL locks instead of failing with
    # "database table is locked" (seen about once in seven runs of the ledger's whole-path test).
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
    # A throw-away file: no need to wait for the disk.
    DATABASES["default"]["OPTIONS"]["init_command"] = (  # noqa: F405
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA busy_timeout=10000;"
    )
