"""core.RateLimitCount: request counts per API key and window, shared by the web processes (core/ratelimit.py).

Unlogged: the counts of the current window are worth nothing after a crash (PostgreSQL empties an unlogged table
when it recovers), and skipping the WAL keeps the counters' upserts cheap.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_vector_extension"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateLimitCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("bucket", models.CharField(max_length=64)),
                ("window_start", models.BigIntegerField(help_text="Unix time at which the window starts.")),
                ("count", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("bucket", "window_start"), name="uniq_ratelimit_bucket_window")
                ],
            },
        ),
        migrations.RunSQL(
            "ALTER TABLE core_ratelimitcount SET UNLOGGED", reverse_sql="ALTER TABLE core_ratelimitcount SET LOGGED"
        ),
    ]
