"""The record of a built demo data set: what was asked for, and which problems were planted where."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoBuild(models.Model):
    """One `lookback demo` build. Its presence is what makes a second run change nothing."""

    seed = models.BigIntegerField(_("随机种子"))
    households = models.PositiveIntegerField(_("户数"))
    batch = models.OneToOneField(
        "registry.ImportBatch", verbose_name=_("导入批次"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    counts = models.JSONField(_("数量"), default=dict, blank=True)
    # Problem key (generator.PROBLEMS) → subjects: household_no, member_no or a helper's ID number;
    # also "helpers" (every demo helper's ID number) and "demo_helper".
    manifest = models.JSONField(_("有意设置的问题"), default=dict, blank=True)

    class Meta:
        verbose_name = _("演示数据")
        verbose_name_plural = _("演示数据")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"演示数据（{self.households} 户，种子 {self.seed}）"
