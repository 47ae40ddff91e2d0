"""Web import timing: a generated workbook uploaded through the real pages (upload → preview → start)
and imported by the real background task, as a county officer would.

    LOOKBACK_DATA_DIR=/tmp/lb_web .venv/bin/python bench/import_web.py --households 3000

uses a fresh SQLite database in the data folder (or DATABASE_URL), generates the file with
`import_generate.py` (3,000 households are about 10,000 member rows plus 3,000 household rows),
then times, with Django's test client: the upload and its preview, the start, and the task running
to the end. The task runs in this process with django-tasks' immediate backend (in production a
worker takes it from the database queue), so the time is the import's, not a worker's polling delay.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("LOOKBACK_DATA_DIR", "/tmp/lookback-web")))
    args = parser.parse_args()
    folder = args.data / f"web-h{args.households}"
    workbook = folder / "registry.xlsx"
    if not workbook.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench/import_generate.py"), "--households", str(args.households),
             "--out", str(folder), "--formats", "xlsx"],
            check=True,
        )  # fmt: skip
    database = folder / "web.sqlite3"
    for old in folder.glob("web.sqlite3*"):
        old.unlink()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{database}")
    os.environ.setdefault("LOOKBACK_DATA_DIR", str(folder))
    os.environ["LOOKBACK_HTTPS"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "lookback.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from lookback.accounts.models import User
    from lookback.accounts.roles import Role
    from lookback.divisions.models import Division
    from lookback.registry.models import Household, ImportBatch, Member

    call_command("migrate", verbosity=0)
    city = Division.objects.filter(level="city").order_by("code").first()
    user = User.objects.create_user(username="web-bench", password="web-bench-pw", role=Role.CITY, scope=city)
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    client.force_login(user)
    content = workbook.read_bytes()
    rows = sum(1 for _ in _rows(workbook))
    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(TASKS=immediate):
        started, cpu = time.perf_counter(), time.process_time()
        upload = client.post(
            reverse("imports:upload"),
            {"files": [SimpleUploadedFile("registry.xlsx", content)]},
        )
        assert upload.status_code == 302, upload.status_code
        preview = client.get(upload["Location"])
        assert preview.status_code == 200
        previewed = time.perf_counter() - started
        batch = ImportBatch.objects.get()
        start = client.post(reverse("imports:upload_start", args=[batch.details["upload"]]))
        assert start.status_code == 302, start.status_code
        done = client.get(start["Location"])
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    batch.refresh_from_db()
    load = os.getloadavg()
    print(
        f"web import of {workbook.name} ({len(content) / 1e6:.1f} MB, {rows:,} rows incl. headers): "
        f"{seconds:.2f}s wall, {cpu_seconds:.2f}s CPU (upload+preview {previewed:.2f}s), "
        f"status {batch.status} (page {done.status_code}), new {batch.rows_new:,}, "
        f"households {Household.objects.count():,}, members {Member.objects.count():,}, "
        f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def _rows(path: Path):
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    for index in range(len(workbook.sheet_names)):
        yield from workbook.get_sheet_by_index(index).iter_rows()


if __name__ == "__main__":
    main()
