"""Drop the single-column indexes of feedback_embedding's two foreign keys: uniq_embedding_per_embedder and
embedding_project lead with them, and every embedded chunk paid for writing them.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0009_capture_no_redundant_fk_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='embedding',
            name='interaction',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='embeddings', to='feedback.interaction'),
        ),
        migrations.AlterField(
            model_name='embedding',
            name='project',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='feedback.project'),
        ),
    ]
