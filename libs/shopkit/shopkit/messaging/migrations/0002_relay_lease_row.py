"""Create the one relay lease row that relay replicas lock while publishing."""
from django.db import migrations


def create_lease(apps, schema_editor):
    apps.get_model("shopkit_messaging", "RelayLease").objects.get_or_create(name="relay")


class Migration(migrations.Migration):
    dependencies = [("shopkit_messaging", "0001_initial")]
    operations = [migrations.RunPython(create_lease, migrations.RunPython.noop)]
