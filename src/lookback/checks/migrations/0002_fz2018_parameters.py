"""Defaults for the parameters the rule catalogue reads, added to the built-in fz2018 campaign.

Only missing keys are added, so values an office has already set are kept. Rules fall back to the
same defaults when a key is missing (see each rule's `params`). The 低保 standard is Fuzhou's 2018
rural standard of 600 元/人·月 expressed per year; check it against the county's own before a run.
"""

from django.db import migrations

DEFAULTS = {
    "dibao_standard": 7200,
    "max_households_per_helper": 5,
    "checkins_required": 4,
    "relocation_years": [2016, 2017],
    "relocation_income_factor": 1.5,
    "return_risk_factor": 1.1,
    "income_max": 100000,
    "compulsory_school_ages": [6, 15],
    "labour_ages": [16, 59],
    "school_status_ages": [6, 23],
    "skill_required_ages": [16, 65],
    "senior_max_age": 14,
    "primary_min_age": 20,
    "stale_days": 365,
    "industry_measure_types": ["产业扶持"],
    "loan_need_keywords": ["贷款", "信贷", "资金"],
    "cause_measures": {
        "因病": ["健康扶贫"],
        "因残": ["健康扶贫", "低保兜底", "特困供养", "公益性岗位"],
        "因学": ["教育资助"],
        "因灾": ["危房改造", "产业扶持", "生活救助"],
        "缺技术": ["技能培训", "就业帮扶"],
        "缺劳动力": ["公益性岗位", "低保兜底", "特困供养", "资产收益", "光伏扶贫"],
        "缺资金": ["小额信贷", "产业扶持"],
        "缺土地": ["产业扶持", "资产收益", "就业帮扶"],
        "交通条件落后": ["造福工程搬迁", "产业扶持"],
        "自身发展动力不足": ["就业帮扶", "技能培训", "产业扶持"],
    },
}


def add_defaults(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    for campaign in Campaign.objects.filter(code="fz2018"):
        parameters = dict(campaign.parameters or {})
        missing = {key: value for key, value in DEFAULTS.items() if key not in parameters}
        if missing:
            parameters.update(missing)
            campaign.parameters = parameters
            campaign.save(update_fields=["parameters"])


class Migration(migrations.Migration):
    dependencies = [("checks", "0001_initial"), ("campaigns", "0002_fz2018")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
