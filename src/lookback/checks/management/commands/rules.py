"""`lookback rules [--output docs/rules.md]`: the rule catalogue as Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from lookback.checks.docs import markdown


class Command(BaseCommand):
    help = "输出规则目录（Markdown），--output 写入文件（如 docs/rules.md）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", help="写入的文件")

    def handle(self, *args: Any, **options: Any) -> None:
        text = markdown()
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(_("已写入 %(file)s") % {"file": options["output"]})
        else:
            self.stdout.write(text)
