from django.db import migrations


def load(apps, schema_editor):
    from lookback.divisions.loader import load_bundled

    load_bundled(apps.get_model("divisions", "Division"))


class Migration(migrations.Migration):
    dependencies = [("divisions", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
