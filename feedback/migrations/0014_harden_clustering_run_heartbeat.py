"""ClusteringRun.heartbeat_at: the worker renews it while a run works, so a run whose worker died is seen as lost
within CLUSTERING_RUN_LEASE_SECONDS (feedback/services/clustering.py) instead of blocking new runs for an hour."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0013_connect_pending_scores_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="clusteringrun",
            name="heartbeat_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Renewed by the worker while it runs; a run silent too long is lost.",
                null=True,
            ),
        ),
    ]
