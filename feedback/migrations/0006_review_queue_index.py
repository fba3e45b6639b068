"""An index in the review queue's order (failures first, most negative, newest), so that a queue page over 100k+
interactions is an index scan with LIMIT instead of a sort of the whole table.

Raw SQL because the Interaction model belongs to the capture capability: the index is not in the model state.
Folding it into Interaction.Meta.indexes later needs SeparateDatabaseAndState (same name, same columns).
"""

from django.db import migrations

INDEX = "interaction_review_queue"


class Migration(migrations.Migration):
    dependencies = [("feedback", "0005_monitoring")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON feedback_interaction "
            "(is_failure DESC, negative_count DESC, occurred_at DESC, id DESC)",
            f"DROP INDEX IF EXISTS {INDEX}",
        )
    ]
