from django.db import models
from django.utils.translation import gettext_lazy as _

# How many leading digits of the 12-digit code name a place at each level.
PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}


class Division(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县")
        TOWNSHIP = "township", _("乡镇")
        VILLAGE = "village", _("村")

    code = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """The code prefix that every place inside this division starts with."""
        return self.code[: PREFIX_LENGTH[self.level]]

    def full_name(self) -> str:
        names = []
        node: Division | None = self
        while node is not None and node.level != self.Level.PROVINCE:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))
