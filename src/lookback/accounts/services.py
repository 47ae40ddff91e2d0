"""Writing accounts: API tokens, the interface language."""

from lookback.accounts.models import ApiToken, User


def issue_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; the plain key is returned once and never stored."""
    return ApiToken.issue(user=user, name=name.strip() or "接口令牌")


def revoke_api_token(*, user: User, token_id: int) -> bool:
    token = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        return False
    token.revoke()
    return True


def set_interface_language(*, user: User, language: str) -> None:
    """Store the user's interface language (a code from INTERFACE_LANGUAGES; the form has checked it)."""
    user.language = language
    user.save(update_fields=["language"])
