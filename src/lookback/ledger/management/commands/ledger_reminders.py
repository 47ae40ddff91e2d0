"""`lookback ledger_reminders`: send today's deadline reminders (run daily, e.g. from cron at 07:00)."""

from typing import Any

from django.core.management.base import BaseCommand

from lookback.ledger import services


class Command(BaseCommand):
    help = "提醒责任人：10 天内到期或已超时限的问题（每个问题每天一次）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行，而不是立即执行")

    def handle(self, *args: Any, enqueue: bool = False, **options: Any) -> None:
        if enqueue:
            from lookback.ledger.tasks import send_due_reminders

            result = send_due_reminders.enqueue()
            self.stdout.write(f"已排队：{result.id}")
            return
        sent = services.send_due_reminders()
        self.stdout.write(f"已发送 {sent} 条提醒。")
