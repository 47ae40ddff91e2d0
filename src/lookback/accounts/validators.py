"""Password rules that need our own wording."""

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule, with a Chinese message: Django 5.2 changed this message's msgid and its Chinese
    catalogue still has the old one, so users would read English."""

    def get_error_message(self) -> str:
        return _("密码长度太短，至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}
