from django.db import migrations


def seed(apps, schema_editor):
    from appraisal.standards import teachers_standards_ensure

    teachers_standards_ensure(apps.get_model("appraisal", "StandardSet"), apps.get_model("appraisal", "Standard"))


class Migration(migrations.Migration):
    dependencies = [("appraisal", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
