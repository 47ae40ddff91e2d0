"""The default unit self-check items of seed 二(一) 到位度 for the built-in campaign, and the ledger's
campaign parameters. Both are edited per campaign afterwards (admin), never overwritten here."""

from django.db import migrations

TOWNSHIP = [
    "乡镇党委、政府把脱贫攻坚作为重大民生工程和首要政治任务来抓，专题研究部署了“回头看”工作",
    "乡镇党政主要负责人（一把手）履行第一责任人职责，亲自部署推动",
    "工作责任层层分解、压实到村到人，有书面责任分工",
    "扶贫专干配备到位、在岗履职",
    "驻村工作队选派到位，力量调优配强，在岗在位",
    "帮扶责任人全部落实到户，12月入户走访已组织开展",
    "工作机制真正落实：定期调度、督导检查、建立问题台帐",
    "执行脱贫攻坚政策中不存在打折扣、走过场、流于形式的问题",
]
COUNTY = [
    "县委、县政府把脱贫攻坚作为重大民生工程和首要政治任务来抓，专题研究部署了“回头看”工作",
    "县党政主要负责人（一把手）负总责，亲自研究部署",
    "县扶贫开发领导小组健全，责任分工明确到乡镇和行业部门",
    "已组建县级复核工作组，对乡镇开展随机抽查复核",
    "教育、医保、民政、住建、人社等行业部门扶贫责任落实",
    "建立了问题整改督导和问责机制",
    "执行脱贫攻坚政策中不存在打折扣、走过场、流于形式的问题",
]
PARAMETERS = {
    # Suggested deadline of a new problem: found date + this many days.
    "rectification_default_days": 30,
    # A problem overdue by more than this many days is suggested for accountability.
    "accountability_overdue_days": 15,
}


def create(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    SelfCheckItem = apps.get_model("ledger", "SelfCheckItem")
    campaign = Campaign.objects.filter(code="fz2018").first()
    if campaign is None:
        return
    for level, items in (("township", TOWNSHIP), ("county", COUNTY)):
        if SelfCheckItem.objects.filter(campaign=campaign, unit_level=level).exists():
            continue
        for order, text in enumerate(items, start=1):
            SelfCheckItem.objects.create(campaign=campaign, unit_level=level, order=order, text=text, clause="二(一)")
    parameters = dict(campaign.parameters or {})
    for name, value in PARAMETERS.items():
        parameters.setdefault(name, value)
    campaign.parameters = parameters
    campaign.save(update_fields=["parameters"])


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("campaigns", "0002_fz2018")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
