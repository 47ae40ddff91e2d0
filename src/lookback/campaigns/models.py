from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Campaign(models.Model):
    """A dated look-back: what the rules judge against ("as of" the reference date) and its deadlines."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    reference_date = models.DateField(_("基准日期"), help_text=_("规则按此日期判断年龄、走访期限、逾期等。"))
    visit_start = models.DateField(_("走访开始日期"))
    visit_end = models.DateField(_("走访结束日期"))
    report_deadline = models.DateField(_("乡镇书面材料报送期限"))
    is_default = models.BooleanField(_("默认活动"), default=False)
    parameters = models.JSONField(
        _("其他参数"),
        default=dict,
        blank=True,
        help_text=_("规则使用的其他阈值，例如低保标准、每名帮扶责任人最多帮扶户数。"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("回头看活动")
        verbose_name_plural = _("回头看活动")
        ordering = ["-reference_date"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        if self.is_default:
            # Exactly one default: setting one clears the others.
            Campaign.objects.exclude(pk=self.pk).filter(is_default=True).update(is_default=False)

    def clean(self) -> None:
        if self.visit_start and self.visit_end and self.visit_start > self.visit_end:
            raise ValidationError({"visit_end": _("走访结束日期不能早于开始日期。")})

    def poverty_line(self, exit_year: int | None) -> Decimal | None:
        """The line that applies to a household that exited in `exit_year` (the latest one not after it)."""
        lines = list(self.poverty_lines.order_by("year"))
        if not lines:
            return None
        if exit_year is None:
            return lines[-1].amount
        applicable = [line for line in lines if line.year <= exit_year]
        return (applicable[-1] if applicable else lines[0]).amount

    def parameter(self, name: str, default: Any = None) -> Any:
        return (self.parameters or {}).get(name, default)

    @classmethod
    def default(cls) -> Campaign | None:
        return cls.objects.filter(is_default=True).first() or cls.objects.first()


class PovertyLine(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="poverty_lines")
    year = models.PositiveSmallIntegerField(_("脱贫年度"))
    amount = models.DecimalField(_("贫困线（元/人·年）"), max_digits=10, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("贫困线")
        verbose_name_plural = _("贫困线")
        ordering = ["campaign", "year"]
        constraints = [models.UniqueConstraint(fields=["campaign", "year"], name="uniq_poverty_line_year")]

    def __str__(self) -> str:
        return f"{self.year}: {self.amount}"
