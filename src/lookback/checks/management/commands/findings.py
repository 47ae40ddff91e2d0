"""`lookback findings [--format jsonl|csv|xlsx] [--output FILE]`: export the current findings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from lookback.campaigns.selectors import get_campaign
from lookback.checks import exports
from lookback.checks.models import Finding


class Command(BaseCommand):
    help = "导出当前问题线索（默认只导出待处理的），格式 jsonl、csv 或 xlsx。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=exports.FORMATS, default="jsonl")
        parser.add_argument("--output", help="输出文件；不填则写到标准输出（xlsx 必须指定文件）")
        parser.add_argument("--campaign", help="活动代码，默认为默认活动")
        parser.add_argument(
            "--status",
            choices=[*Finding.Status.values, "all"],
            default=Finding.Status.OPEN,
            help="open 待处理（默认）、waived 已豁免、fixed 数据已整改、all 全部",
        )
        parser.add_argument("--rule", dest="rules", action="extend", nargs="+", default=[])
        parser.add_argument("--division", default="", help="行政区划代码前缀")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = get_campaign(options["campaign"])
        if campaign is None:
            raise CommandError(_("没有活动“%(code)s”。") % {"code": options["campaign"] or _("（默认）")})
        qs = Finding.objects.filter(campaign=campaign)
        if options["status"] != "all":
            qs = qs.filter(status=options["status"])
        if options["rules"]:
            qs = qs.filter(rule_code__in=[code.upper() for code in options["rules"]])
        if options["division"]:
            qs = qs.filter(division_code__startswith=options["division"])
        items = exports.rows(qs)
        fmt, output = options["format"], options["output"]
        if fmt == "xlsx":
            if not output:
                raise CommandError(_("xlsx 格式必须用 --output 指定文件。"))
            count = exports.write_xlsx(items, output)
        else:
            lines = exports.iter_jsonl(items) if fmt == "jsonl" else exports.iter_csv(items)
            written = 0
            if output:
                with open(output, "w", encoding="utf-8", newline="") as stream:
                    for line in lines:
                        stream.write(line)
                        written += 1
            else:
                for line in lines:
                    self.stdout.write(line, ending="")
                    written += 1
            count = written - 1 if fmt == "csv" else written
        if output:
            self.stderr.write(_("已导出 %(n)d 条问题线索到 %(file)s") % {"n": max(count, 0), "file": output})
