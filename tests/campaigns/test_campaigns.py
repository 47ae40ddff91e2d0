import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from lookback.campaigns.models import Campaign
from lookback.campaigns.selectors import get_campaign


@pytest.mark.django_db
def test_builtin_campaign_is_the_default():
    campaign = get_campaign()
    assert campaign.code == "fz2018"
    assert campaign.reference_date == datetime.date(2018, 12, 31)
    assert (campaign.visit_start, campaign.visit_end) == (datetime.date(2018, 12, 1), datetime.date(2018, 12, 31))
    assert campaign.report_deadline == datetime.date(2019, 1, 10)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("exit_year", "line"),
    [(2014, "2800"), (2015, "2855"), (2016, "2952"), (2017, "2952"), (2018, "2995"), (2013, "2800"), (2020, "2995")],
)
def test_poverty_line_by_exit_year(exit_year, line):
    assert get_campaign("fz2018").poverty_line(exit_year) == Decimal(line)


@pytest.mark.django_db
def test_lines_are_editable():
    campaign = get_campaign("fz2018")
    campaign.poverty_lines.filter(year=2018).update(amount=Decimal("3000"))
    assert campaign.poverty_line(2018) == Decimal("3000")


@pytest.mark.django_db
def test_only_one_default_campaign():
    fz = get_campaign("fz2018")
    other = Campaign.objects.create(
        code="fz2019",
        name="2019",
        reference_date=datetime.date(2019, 12, 31),
        visit_start=datetime.date(2019, 12, 1),
        visit_end=datetime.date(2019, 12, 31),
        report_deadline=datetime.date(2020, 1, 10),
        is_default=True,
    )
    fz.refresh_from_db()
    assert not fz.is_default
    assert get_campaign() == other


@pytest.mark.django_db
def test_visit_window_must_be_ordered():
    campaign = get_campaign("fz2018")
    campaign.visit_end = datetime.date(2018, 11, 1)
    with pytest.raises(ValidationError):
        campaign.full_clean()
