from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from lookback.accounts.models import INTERFACE_LANGUAGES


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续输错 5 次，账号将被锁定 30 分钟。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("用途"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("例如：县大数据平台对接")}),
    )


class LanguageForm(forms.Form):
    """The interface language, from the profile page or the login page's switch."""

    language = forms.ChoiceField(label=_("界面语言"), choices=INTERFACE_LANGUAGES, widget=forms.RadioSelect)
    next = forms.CharField(required=False)
