"""The reservation's cancelled_before_placed flag goes: a released reservation without lines says the same."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='reservation',
            name='cancelled_before_placed',
        ),
    ]
