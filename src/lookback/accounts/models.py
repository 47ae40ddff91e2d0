from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lookback.accounts.roles import CAPABILITIES, SCOPE_LEVEL, Role
from lookback.divisions.models import Division

# The interface languages, each named in its own language: someone stuck in a language they cannot read still
# finds theirs. Chinese is the default for everyone; the first entry of settings.LANGUAGES must match.
INTERFACE_LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VILLAGE)
    scope = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("管辖范围"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("用户能看到的行政区划；系统管理员可留空（全部）。"),
    )
    unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    # Blank: never chosen, so the site default (settings.LANGUAGE_CODE, Chinese). Stored on the account rather
    # than in a browser cookie because township offices share computers: the choice follows the person.
    language = models.CharField(_("界面语言"), max_length=10, choices=INTERFACE_LANGUAGES, blank=True, default="")

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        full = (self.last_name + self.first_name).strip()
        return f"{full}（{self.username}）" if full else self.username

    @property
    def display_name(self) -> str:
        return (self.last_name + self.first_name).strip() or self.username

    def clean(self) -> None:
        super().clean()
        level = SCOPE_LEVEL.get(self.role)
        if self.role != Role.ADMIN and self.scope is None and not self.is_superuser:
            raise ValidationError({"scope": _("除系统管理员外，每个用户都必须有管辖范围。")})
        if level and self.scope is not None and self.scope.level != level:
            raise ValidationError(
                {
                    "scope": _("角色“%(role)s”的管辖范围必须是%(level)s级行政区划。")
                    % {"role": self.get_role_display(), "level": Division.Level(level).label}
                }
            )

    @property
    def scope_prefix(self) -> str | None:
        """The code prefix of the user's scope; "" for all; None for no data at all."""
        if self.role == Role.ADMIN or self.is_superuser:
            return self.scope.prefix if self.scope else ""
        if self.scope is None:
            return None
        return self.scope.prefix

    @property
    def is_helper(self) -> bool:
        return self.role == Role.HELPER

    def can(self, capability: str) -> bool:
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return capability in CAPABILITIES.get(self.role, frozenset())


class ApiToken(models.Model):
    """A per-user token for other systems; only its hash is stored, the token is shown once."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple[ApiToken, str]:
        key = "lb_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[:8], key_hash=cls.hash_key(key))
        return token, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
