"""`lookback check [--campaign CODE] [--rule CODE …]`: run the campaign's rules, print counts per rule.

It takes over Django's `check` command name (the import contract fixes `lookback check`), so it also
answers as the system check: with `--system`, Django's check options (`--deploy`, `--tag`,
`--list-tags`, app labels), or when Django's test runner calls it with `databases`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import check as django_check
from django.utils.translation import gettext as _

from lookback.accounts.models import User
from lookback.campaigns.selectors import get_campaign
from lookback.checks.catalogue import all_rules
from lookback.checks.engine import RuleOutcome, UnknownRule, run_checks
from lookback.checks.models import CheckRun, RuleRunStat
from lookback.checks.services import busy_runs


class Command(django_check.Command):
    help = (
        "运行回头看规则检查并按规则输出发现数（--campaign 活动代码，--rule 规则代码）；--system 执行 Django 系统检查。"
    )

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument("--campaign", help="活动代码，默认为默认活动（fz2018）")
        parser.add_argument("--rule", dest="rules", action="extend", nargs="+", default=[], help="只运行这些规则")
        parser.add_argument("--user", help="记录为发起人的用户名")
        parser.add_argument("--list", action="store_true", help="只列出规则，不运行")
        parser.add_argument("--system", action="store_true", help="执行 Django 系统检查")
        parser.add_argument("--force", action="store_true", help="即使已有检查在排队或运行也运行")

    def handle(self, *app_labels: str, **options: Any) -> None:
        system = (
            options["system"]
            or app_labels
            or options.get("deploy")
            or options.get("tags")
            or options.get("list_tags")
            or options.get("databases")
        )
        if system:
            return super().handle(*app_labels, **options)
        if options["list"]:
            for rule in all_rules():
                self.stdout.write(f"{rule.code}\t{rule.clause}\t{rule.topic}\t{rule.title}")
            return None
        campaign = get_campaign(options["campaign"])
        if campaign is None:
            raise CommandError(_("没有活动“%(code)s”。") % {"code": options["campaign"] or _("（默认）")})
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_("没有用户“%(name)s”。") % {"name": options["user"]})
        if not options["force"] and busy_runs(campaign).exists():
            raise CommandError(_("该活动已有一次检查在排队或运行（页面或另一个命令）；等它结束，或用 --force。"))
        verbose = options["verbosity"] >= 1

        def progress(outcome: RuleOutcome, index: int, total: int) -> None:
            if not verbose:
                return
            rule = outcome.rule
            state = {"ok": "", "skipped": "  " + _("跳过："), "error": "  " + _("出错：")}[outcome.status]
            self.stdout.write(
                f"{rule.code:<6} {rule.topic:<27} {outcome.found:>8}  {outcome.seconds:6.2f}s  {rule.title}"
                f"{state}{outcome.message[:200] if outcome.status != 'ok' else ''}"
            )

        if verbose:
            self.stdout.write(
                _("%(name)s（%(code)s），基准日期 %(date)s")
                % {"name": campaign.name, "code": campaign.code, "date": campaign.reference_date}
            )
            self.stdout.write(f"{_('规则'):<6} {_('类别'):<27} {_('发现'):>8}  {_('耗时'):>7}  {_('名称')}")
        try:
            result = run_checks(
                campaign=campaign,
                rule_codes=options["rules"] or None,
                user=user,
                source=CheckRun.Source.CLI,
                on_progress=progress,
            )
        except UnknownRule as exc:
            raise CommandError(
                _("没有规则“%(code)s”。运行 lookback check --list 查看全部规则。") % {"code": exc}
            ) from exc
        run, rec = result.run, result.reconciliation
        errors = [o for o in result.outcomes if o.status == RuleRunStat.Status.ERROR]
        self.stdout.write(
            _(
                "共 %(rules)d 条规则，发现 %(found)d 条；新增 %(opened)d，更新 %(updated)d，数据已整改 %(fixed)d；"
                "耗时 %(seconds).1f 秒（运行记录 #%(run)d）"
            )
            % {
                "rules": len(result.outcomes),
                "found": run.found,
                "opened": rec.opened,
                "updated": rec.updated,
                "fixed": rec.fixed,
                "seconds": run.duration or 0,
                "run": run.pk,
            }
        )
        if errors:
            raise CommandError(
                _("%(n)d 条规则出错：%(codes)s") % {"n": len(errors), "codes": "、".join(o.rule.code for o in errors)}
            )
        return None
