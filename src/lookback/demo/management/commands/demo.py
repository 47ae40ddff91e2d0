"""`lookback demo`: migrate, build the demo data set (once), set up the demo users, then serve the app on
127.0.0.1 with a background task worker beside it, so imports and rule runs work as in production."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lookback.accounts.roles import Role
from lookback.demo import services

MAX_HOUSEHOLDS = 200_000


def _die_with_parent() -> None:  # pragma: no cover - runs in the child process
    """Ask Linux to stop the worker when the demo process dies, even by SIGKILL (no-op elsewhere)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    # Plain strings: argparse cannot format lazy translations, and the texts are Chinese already.
    help = "建立演示数据和演示账号，并在 127.0.0.1 上启动演示站点和后台任务进程。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="只建立数据和账号，不启动站点。")
        parser.add_argument("--port", type=int, default=8000, help="站点端口（默认 8000）。")
        parser.add_argument(
            "--households", type=int, default=services.DEFAULT_HOUSEHOLDS, help="脱贫户数（默认 5000）。"
        )
        parser.add_argument(
            "--seed", type=int, default=services.DEFAULT_SEED, help="随机种子：同一种子生成同样的数据。"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        households: int = options["households"]
        port: int = options["port"]
        seed: int = options["seed"]
        serve = not options["no_serve"]
        verbosity: int = options["verbosity"]
        if not 1 <= households <= MAX_HOUSEHOLDS:
            raise CommandError(_("户数必须在 1 到 %(max)d 之间。") % {"max": MAX_HOUSEHOLDS})
        if not 1 <= port <= 65535:
            raise CommandError(_("端口必须在 1 到 65535 之间。"))
        if serve and not port_free(port):
            raise CommandError(_("端口 %(port)d 已被占用，请用 --port 换一个端口。") % {"port": port})

        self.stdout.write(_("正在迁移数据库……"))
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))

        build, created = services.build_demo_data(
            seed=seed,
            households=households,
            log=(lambda message: self.stdout.write(message)) if verbosity >= 2 else None,
        )
        counts = build.counts
        if created:
            message = _(
                "已建立演示数据：%(households)d 户，%(members)d 人，帮扶责任人 %(helpers)d 名，用时 %(seconds).1f 秒。"
            )
            self.stdout.write(message % {**counts, "seconds": build.seconds})
        else:
            self.stdout.write(
                _("演示数据已存在（%(households)d 户，种子 %(seed)d），未重复建立。")
                % {"households": counts.get("households", 0), "seed": build.seed}
            )
            if (households, seed) != (build.households, build.seed):
                self.stdout.write(_("如需另一规模或种子的数据，请使用新的数据目录（LOOKBACK_DATA_DIR）或新的数据库。"))
        users = services.ensure_demo_users(build)
        from lookback.demo.ledger import build_demo_ledger

        if build_demo_ledger(
            build,
            {spec.username: user for user, spec in users},
            log=(lambda message: self.stdout.write(message)) if verbosity >= 2 else None,
        ):
            self.stdout.write(
                _(
                    "已建立问题台帐：%(problems)d 个问题（规则比对 %(rule)d 个，手工登记 %(manual)d 个），"
                    "乡镇自查报告 %(reports)d 份，问责记录 %(accountability)d 条。"
                )
                % build.manifest["ledger"]
            )
        self._print_logins(users, port if serve else None)
        if serve:
            self._serve(port)

    def _print_logins(self, users: list[tuple[Any, services.DemoUser]], port: int | None) -> None:
        if port is not None:
            self.stdout.write("")
            self.stdout.write(_("演示站点：http://127.0.0.1:%(port)d/login/") % {"port": port})
        self.stdout.write(_("演示账号（密码均为 %(password)s）：") % {"password": services.DEMO_PASSWORD})
        for user, spec in users:
            scope = _("全部") if user.scope is None else f"{user.scope.full_name()}（{user.scope.code}）"
            if spec.role == Role.HELPER:
                scope += _("，仅本人帮扶的 %(n)d 户") % {
                    "n": user.helper.assignments.count() if hasattr(user, "helper") else 0
                }
            self.stdout.write(f"  {user.username:<16} {user.get_role_display():<8} {scope}")

    def _serve(self, port: int) -> None:
        # The worker runs the same settings and database as this process (the environment is inherited).
        worker = subprocess.Popen(
            [sys.executable, "-m", "lookback", "db_worker", "--no-reload"],
            env=os.environ.copy(),
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        self.stdout.write(_("后台任务进程已启动（进程号 %(pid)d）。按 Ctrl+C 停止演示。") % {"pid": worker.pid})
        # SIGTERM ends the server like Ctrl+C does, so the worker is stopped below either way; Ctrl+C
        # works even when a script started us with SIGINT ignored (as shells do for background jobs).
        previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)
        finally:
            signal.signal(signal.SIGTERM, previous_term)
            signal.signal(signal.SIGINT, previous_int)
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            self.stdout.write(_("后台任务进程已停止。"))
