"""Leave 15% free space in each page of feedback_interaction, so that the counter updates of capture (every new
feedback adds to its interaction's feedback_count) can be HOT updates: the new row version stays on its page and
none of the table's ten indexes is touched, unless an indexed column (negative_count, is_failure) changes.
Storage only: no model state changes. Pages written before this keep their old fill until rewritten.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("feedback", "0006_review_queue_index")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE feedback_interaction SET (fillfactor = 85)",
            "ALTER TABLE feedback_interaction RESET (fillfactor)",
        )
    ]
