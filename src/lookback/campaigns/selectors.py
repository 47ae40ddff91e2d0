from lookback.campaigns.models import Campaign


def get_campaign(code: str | None = None) -> Campaign | None:
    """The named campaign, or the default one. Campaigns are city-wide, so no scoping applies."""
    if code:
        return Campaign.objects.filter(code=code).first()
    return Campaign.default()
