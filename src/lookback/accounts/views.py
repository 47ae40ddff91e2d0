from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lookback.accounts.forms import LoginForm, TokenForm
from lookback.accounts.selectors import tokens_of
from lookback.accounts.services import issue_api_token, revoke_api_token


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
        {"form": form, "tokens": tokens_of(request.user), "new_key": new_key},
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
