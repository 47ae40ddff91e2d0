from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lookback.accounts.forms import LanguageForm, LoginForm, TokenForm
from lookback.accounts.selectors import tokens_of
from lookback.accounts.services import issue_api_token, revoke_api_token, set_interface_language


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        # A refused login is bad input: the message, and a 4xx rather than a 200 that looks like success.
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    new_key = None
    status = 200
    form = TokenForm()
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            _token, new_key = issue_api_token(user=request.user, name=form.cleaned_data["name"])
            messages.success(request, _("接口令牌已生成。请立即复制保存，离开本页后将无法再次查看。"))
            form = TokenForm()
        else:
            status = 400
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "tokens": tokens_of(request.user),
            "new_key": new_key,
            "language_form": LanguageForm(initial={"language": translation.get_language()}),
        },
        status=status,
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    # Another user's token (or none at all) is not the user's business: 404, as for any object outside scope.
    if not tokens_of(request.user).filter(pk=token_id).exists():
        raise Http404(_("找不到该令牌。"))
    if revoke_api_token(user=request.user, token_id=token_id):
        messages.success(request, _("令牌已吊销。"))
    else:
        messages.info(request, _("该令牌已被吊销。"))
    return redirect("accounts:profile")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Signed in: store the choice on the account. On the login page: a cookie for this browser's sign-in pages.

    A signed-in user's choice never goes into the cookie: on a shared office computer the next person to sign
    in gets their own choice (or Chinese), not the previous user's.
    """
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("不支持的界面语言。"))
        return render(request, "400.html", status=400)
    language = form.cleaned_data["language"]
    target = form.cleaned_data["next"]
    hosts = {request.get_host()}
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure())
    if not safe:
        target = reverse("accounts:profile") if request.user.is_authenticated else reverse("accounts:login")
    response = redirect(target)
    if request.user.is_authenticated:
        set_interface_language(user=request.user, language=language)
        translation.activate(language)
        messages.success(request, _("界面语言已保存。"))
    else:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    return response
