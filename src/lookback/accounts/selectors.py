from django.db.models import QuerySet
from django.utils import timezone

from lookback.accounts.models import ApiToken, User


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def user_for_api_key(key: str) -> User | None:
    """The active user behind a token, or None; records the use."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__scope")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user
