"""Monitoring's models, taken over from feedback (feedback 0012) with their tables, rows and content types.

The tables were created by feedback 0005 and keep their names (`db_table`), so creating the models here is a change
of Django's state only. The content types (and so the permissions granted on them, and admin log entries) are
renamed from feedback to monitoring rather than created anew.
"""

import django.db.models.deletion
from django.db import migrations, models

MODELS = ("alertrule", "alert", "feedbackrollup", "rollupcursor", "webhookdelivery")


def _move_content_types(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_forward(apps, schema_editor):
    _move_content_types(apps, "feedback", "monitoring")


def content_types_backward(apps, schema_editor):
    _move_content_types(apps, "monitoring", "feedback")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("feedback", "0012_monitoring_moved_out"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AlertRule",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        (
                            "metric",
                            models.CharField(
                                choices=[
                                    ("negative_rate", "Negative rate (share of feedback that is negative, 0-1)"),
                                    ("mean_score", "Mean score (mean of NUMERIC feedback values)"),
                                    (
                                        "cluster_growth",
                                        "Cluster growth (most members gained by a cluster since the previous run)",
                                    ),
                                    ("backlog_age", "Backlog age (hours the oldest unreviewed failure has waited)"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "score_name",
                            models.CharField(
                                blank=True,
                                help_text="mean_score only: the feedback name to average; blank for every score.",
                                max_length=100,
                            ),
                        ),
                        (
                            "model",
                            models.CharField(
                                blank=True, help_text="Only interactions of this model (blank: all).", max_length=200
                            ),
                        ),
                        (
                            "prompt_version",
                            models.CharField(
                                blank=True, help_text="Only this prompt version (blank: all).", max_length=200
                            ),
                        ),
                        (
                            "window_minutes",
                            models.PositiveIntegerField(
                                default=60,
                                help_text="negative_rate and mean_score: feedback received in the last N minutes.",
                            ),
                        ),
                        (
                            "comparison",
                            models.CharField(
                                choices=[("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")],
                                default="gt",
                                max_length=3,
                            ),
                        ),
                        ("threshold", models.FloatField()),
                        (
                            "min_volume",
                            models.PositiveIntegerField(
                                default=20,
                                help_text="Below this much feedback (scores, cluster members, backlog items) the rule neither fires nor resolves.",
                            ),
                        ),
                        ("webhook_url", models.URLField(blank=True, max_length=500)),
                        (
                            "webhook_secret",
                            models.CharField(
                                blank=True, help_text="Signs the webhook body (HMAC-SHA256).", max_length=200
                            ),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        ("last_evaluated_at", models.DateTimeField(blank=True, null=True)),
                        ("last_value", models.FloatField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="alert_rules",
                                to="feedback.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "feedback_alertrule",
                        "ordering": ["project", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="Alert",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[("firing", "Firing"), ("resolved", "Resolved")],
                                default="firing",
                                max_length=10,
                            ),
                        ),
                        ("opened_at", models.DateTimeField()),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "value",
                            models.FloatField(
                                help_text="The metric when the alert opened, then its latest value while firing."
                            ),
                        ),
                        ("details", models.JSONField(blank=True, default=dict)),
                        (
                            "rule",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="alerts",
                                to="monitoring.alertrule",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "feedback_alert",
                        "ordering": ["-opened_at"],
                    },
                ),
                migrations.CreateModel(
                    name="FeedbackRollup",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("bucket_start", models.DateTimeField(help_text="Start of the hour (UTC).")),
                        ("model", models.CharField(blank=True, default="", max_length=200)),
                        ("prompt_version", models.CharField(blank=True, default="", max_length=200)),
                        (
                            "name",
                            models.CharField(
                                blank=True, default="", help_text="Feedback name; '' also holds counts.", max_length=100
                            ),
                        ),
                        ("interactions", models.IntegerField(default=0)),
                        ("feedback", models.IntegerField(default=0)),
                        ("negative", models.IntegerField(default=0)),
                        ("score_count", models.IntegerField(default=0, help_text="NUMERIC feedback values.")),
                        ("score_sum", models.FloatField(default=0.0)),
                        (
                            "score_sq_sum",
                            models.FloatField(
                                default=0.0, help_text="Sum of squares, for the variance of the before/after test."
                            ),
                        ),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="feedback.project"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "feedback_feedbackrollup",
                    },
                ),
                migrations.CreateModel(
                    name="RollupCursor",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "covered_until",
                            models.DateTimeField(help_text="Hours before this come from rollups; later ones are live."),
                        ),
                        (
                            "last_interaction_id",
                            models.BigIntegerField(default=0, help_text="Rows after these ids may dirty old hours."),
                        ),
                        ("last_feedback_id", models.BigIntegerField(default=0)),
                        ("refreshed_at", models.DateTimeField()),
                        (
                            "project",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="feedback.project"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "feedback_rollupcursor",
                    },
                ),
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "event",
                            models.CharField(
                                choices=[("alert.firing", "Firing"), ("alert.resolved", "Resolved")], max_length=20
                            ),
                        ),
                        ("url", models.URLField(max_length=500)),
                        ("attempt", models.PositiveIntegerField()),
                        ("status_code", models.PositiveIntegerField(blank=True, null=True)),
                        ("response_excerpt", models.TextField(blank=True)),
                        ("error", models.TextField(blank=True)),
                        ("succeeded", models.BooleanField(default=False)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "alert",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="monitoring.alert",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "webhook deliveries",
                        "db_table": "feedback_webhookdelivery",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="alertrule",
                    constraint=models.UniqueConstraint(fields=("project", "name"), name="uniq_alert_rule_name"),
                ),
                migrations.AddIndex(
                    model_name="alert",
                    index=models.Index(fields=["status", "-opened_at"], name="alert_status"),
                ),
                migrations.AddConstraint(
                    model_name="alert",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "firing")), fields=("rule",), name="one_firing_alert_per_rule"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="feedbackrollup",
                    constraint=models.UniqueConstraint(
                        fields=("project", "bucket_start", "model", "prompt_version", "name"),
                        name="uniq_feedback_rollup",
                    ),
                ),
                migrations.AddIndex(
                    model_name="webhookdelivery",
                    index=models.Index(fields=["alert", "event", "attempt"], name="webhook_delivery_alert"),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
