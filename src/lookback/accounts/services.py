"""Writing accounts: API tokens."""

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
