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
