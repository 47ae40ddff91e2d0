"""`lookback import FILE... [--kind KIND] [--as-national-snapshot] [--dry-run]` (spec "Command-line contract").

Exit status 0 when every file was stored (or, with --dry-run, would be); 1 when a file was rejected,
after printing the error report's path and a summary.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lookback.registry.importers.engine import kind_choices
from lookback.registry.models import ImportBatch
from lookback.registry.services_import import ImportNotAllowed, Options, import_files

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = _("导入国扶系统导出表、部门比对名单或国扶快照（xlsx / xls / ods / csv）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help=_("要导入的文件，可以多个"))
        parser.add_argument(
            "--kind",
            default="",
            choices=[code for code, _ in kind_choices()],
            help=_("表格类型；部门名单必须指定（如 dibao），除非表中有“名单类型”列"),
        )
        parser.add_argument("--as-national-snapshot", action="store_true", help=_("作为国扶系统快照保存，不并入台账"))
        parser.add_argument("--snapshot-date", default="", help=_("快照日期 YYYY-MM-DD（默认今天）"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查，不写入"))
        parser.add_argument("--user", default="", help=_("以该用户的身份和管辖范围导入（默认：不限范围）"))

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [Path(f) for f in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        snapshot_date = None
        if options["snapshot_date"]:
            try:
                snapshot_date = date.fromisoformat(options["snapshot_date"])
            except ValueError as exc:
                raise CommandError(_("--snapshot-date 应写作 YYYY-MM-DD")) from exc
        user = None
        if options["user"]:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_("没有用户 %(user)s") % {"user": options["user"]})
        import_options = Options(
            kind=options["kind"],
            as_national_snapshot=options["as_national_snapshot"],
            snapshot_date=snapshot_date,
            dry_run=options["dry_run"],
        )
        try:
            batches = import_files(paths=paths, user=user, options=import_options)
        except ImportNotAllowed as exc:
            raise CommandError(str(exc)) from exc
        failed = False
        for batch in batches:
            failed |= not self._report(batch)
        if failed:
            raise SystemExit(1)

    def _report(self, batch: ImportBatch) -> bool:
        details = batch.details or {}
        counts = details.get("counts", {})
        per_kind = "，".join(
            _("%(kind)s 新增 %(new)s 更新 %(updated)s 未变 %(unchanged)s") % {"kind": kind, **c}
            for kind, c in counts.items()
        )
        warnings = details.get("warning_count", len(batch.warnings))
        if batch.status == ImportBatch.Status.STORED:
            verb = _("检查通过（未写入）") if details.get("dry_run") else _("已导入")
            template = _(
                "%(file)s：%(verb)s。新增 %(new)s，更新 %(updated)s，未变 %(unchanged)s；警告 %(warnings)s 条。"
            )  # noqa: E501
            line = template % {
                "file": batch.file_name,
                "verb": verb,
                "new": batch.rows_new,
                "updated": batch.rows_updated,
                "unchanged": batch.rows_unchanged,
                "warnings": warnings,
            }
            self.stdout.write(line + (f"（{per_kind}）" if per_kind else ""))
            for issue in batch.warnings[:SHOWN_ERRORS]:
                self.stdout.write("  " + _("警告") + f" {_where(issue)}{issue['reason']}")
            return True
        errors = details.get("error_count", len(batch.errors))
        self.stderr.write(
            _("%(file)s：未导入（%(status)s），共 %(n)s 个错误，没有写入任何数据。")
            % {"file": batch.file_name, "status": batch.get_status_display(), "n": errors}
        )
        for issue in batch.errors[:SHOWN_ERRORS]:
            value = f"“{issue['value']}”：" if issue.get("value") else ""
            self.stderr.write(f"  {_where(issue)}{value}{issue['reason']}")
        if errors > SHOWN_ERRORS:
            self.stderr.write("  " + _("……另有 %(n)s 个错误，见错误报告。") % {"n": errors - SHOWN_ERRORS})
        if batch.report_path:
            self.stderr.write(_("错误报告：%(path)s") % {"path": batch.report_path})
        return False


def _where(issue: dict[str, Any]) -> str:
    parts = []
    if issue.get("sheet"):
        parts.append(_("工作表“%(sheet)s”") % {"sheet": issue["sheet"]})
    if issue.get("row"):
        parts.append(_("第 %(row)s 行") % {"row": issue["row"]})
    if issue.get("column"):
        parts.append(_("“%(column)s”列") % {"column": issue["column"]})
    return ("，".join(parts) + "：") if parts else ""
