"""Drop the single-column indexes of three foreign keys that composite indexes already lead with: every capture write
maintained them (feedback: 6 indexes to 4), and the composites serve the same lookups and cascading deletes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0008_capture_external_id_first'),
    ]

    operations = [
        migrations.AlterField(
            model_name='feedback',
            name='interaction',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='feedback', to='feedback.interaction'),
        ),
        migrations.AlterField(
            model_name='feedback',
            name='project',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='feedback', to='feedback.project'),
        ),
        migrations.AlterField(
            model_name='interaction',
            name='project',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='interactions', to='feedback.project'),
        ),
    ]
