"""Monitoring moved to its own app (monitoring/ 0001): its models leave feedback's state only.

The tables stay where they are, with their rows; monitoring's models name them with `db_table`. Nothing changes
in the database, so this migration (and its reverse) only edits Django's picture of the models.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0011_embedding_similarity_index_per_project"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="webhookdelivery",
                    name="alert",
                ),
                migrations.RemoveField(
                    model_name="alertrule",
                    name="project",
                ),
                migrations.RemoveField(
                    model_name="feedbackrollup",
                    name="project",
                ),
                migrations.RemoveField(
                    model_name="rollupcursor",
                    name="project",
                ),
                migrations.DeleteModel(
                    name="Alert",
                ),
                migrations.DeleteModel(
                    name="WebhookDelivery",
                ),
                migrations.DeleteModel(
                    name="AlertRule",
                ),
                migrations.DeleteModel(
                    name="FeedbackRollup",
                ),
                migrations.DeleteModel(
                    name="RollupCursor",
                ),
            ],
            database_operations=[],
        )
    ]
