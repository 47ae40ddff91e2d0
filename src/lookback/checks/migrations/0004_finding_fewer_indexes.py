# Fewer indexes on findings: a first run inserts about 550,000 of them at 300,000 households, and each
# index cost PostgreSQL about a second of that insert. division_code keeps one (pattern_ops) index
# instead of two; member and fixed_run become partial (most findings have neither); opened_run loses
# its index (the engine counts what a run opened from its staging tables).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("checks", "0003_finding_keys_without_constraints"),
        ("registry", "0002_importbatch_details"),
    ]

    operations = [
        migrations.AlterField(
            model_name="finding",
            name="division_code",
            field=models.CharField(max_length=12, verbose_name="行政区划代码"),
        ),
        migrations.AlterField(
            model_name="finding",
            name="fixed_run",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="checks.checkrun",
            ),
        ),
        migrations.AlterField(
            model_name="finding",
            name="member",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="findings",
                to="registry.member",
                verbose_name="家庭成员",
            ),
        ),
        migrations.AlterField(
            model_name="finding",
            name="opened_run",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="opened_findings",
                to="checks.checkrun",
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(fields=["division_code"], name="finding_division", opclasses=["varchar_pattern_ops"]),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(condition=models.Q(("member__isnull", False)), fields=["member"], name="finding_member"),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                condition=models.Q(("fixed_run__isnull", False)), fields=["fixed_run"], name="finding_fixed_run"
            ),
        ),
    ]
