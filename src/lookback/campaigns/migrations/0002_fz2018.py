import datetime
from decimal import Decimal

from django.db import migrations

# The seed's campaign: 榕扶办〔2018〕80号, visits in December 2018, township reports by 2019-01-10.
LINES = {2014: "2800", 2015: "2855", 2016: "2952", 2017: "2952", 2018: "2995"}


def create(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    PovertyLine = apps.get_model("campaigns", "PovertyLine")
    campaign, _ = Campaign.objects.get_or_create(
        code="fz2018",
        defaults={
            "name": "2018年福州市稳定脱贫“回头看”",
            "reference_date": datetime.date(2018, 12, 31),
            "visit_start": datetime.date(2018, 12, 1),
            "visit_end": datetime.date(2018, 12, 31),
            "report_deadline": datetime.date(2019, 1, 10),
            "is_default": True,
            "parameters": {},
        },
    )
    for year, amount in LINES.items():
        PovertyLine.objects.get_or_create(campaign=campaign, year=year, defaults={"amount": Decimal(amount)})


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
