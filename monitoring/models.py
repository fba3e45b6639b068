"""Monitoring: hourly rollups of feedback metrics, alert rules, the alerts they open and their webhook deliveries."""

from django.db import models


class FeedbackRollup(models.Model):
    """One hour of one (model, prompt_version, score name) of a project, pre-aggregated for the metrics API.

    Interactions are bucketed by `Interaction.occurred_at`; feedback by `Feedback.created_at` (when the judgement
    arrived), with the model and prompt version of its interaction. NUMERIC feedback is counted on the row of its
    own name, so that a mean score can be asked for one name; all other feedback and every interaction are counted
    on the row whose `name` is "". Summing any set of rows therefore never counts anything twice.
    """

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="+")
    bucket_start = models.DateTimeField(help_text="Start of the hour (UTC).")
    model = models.CharField(max_length=200, blank=True, default="")
    prompt_version = models.CharField(max_length=200, blank=True, default="")
    name = models.CharField(max_length=100, blank=True, default="", help_text="Feedback name; '' also holds counts.")
    interactions = models.IntegerField(default=0)
    feedback = models.IntegerField(default=0)
    negative = models.IntegerField(default=0)
    score_count = models.IntegerField(default=0, help_text="NUMERIC feedback values.")
    score_sum = models.FloatField(default=0.0)
    score_sq_sum = models.FloatField(
        default=0.0, help_text="Sum of squares, for the variance of the before/after test."
    )

    class Meta:
        db_table = "feedback_feedbackrollup"  # the table of when this model lived in feedback
        constraints = [
            models.UniqueConstraint(
                fields=["project", "bucket_start", "model", "prompt_version", "name"], name="uniq_feedback_rollup"
            )
        ]


class RollupCursor(models.Model):
    """How far the rollups of a project are known to be complete: every closed hour before `covered_until`."""

    project = models.OneToOneField("feedback.Project", on_delete=models.CASCADE, related_name="+")
    covered_until = models.DateTimeField(help_text="Hours before this come from rollups; later ones are live.")
    last_interaction_id = models.BigIntegerField(default=0, help_text="Rows after these ids may dirty old hours.")
    last_feedback_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        db_table = "feedback_rollupcursor"  # the table of when this model lived in feedback


class AlertRule(models.Model):
    class Metric(models.TextChoices):
        NEGATIVE_RATE = "negative_rate", "Negative rate (share of feedback that is negative, 0-1)"
        MEAN_SCORE = "mean_score", "Mean score (mean of NUMERIC feedback values)"
        CLUSTER_GROWTH = "cluster_growth", "Cluster growth (most members gained by a cluster since the previous run)"
        BACKLOG_AGE = "backlog_age", "Backlog age (hours the oldest unreviewed failure has waited)"
        AGREEMENT = "agreement", "SME agreement (Krippendorff's alpha of verdicts given in the window, -1 to 1)"

    class Comparison(models.TextChoices):
        GT = "gt", ">"
        GTE = "gte", ">="
        LT = "lt", "<"
        LTE = "lte", "<="

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=20, choices=Metric.choices)
    score_name = models.CharField(
        max_length=100, blank=True, help_text="mean_score only: the feedback name to average; blank for every score."
    )
    model = models.CharField(max_length=200, blank=True, help_text="Only interactions of this model (blank: all).")
    prompt_version = models.CharField(max_length=200, blank=True, help_text="Only this prompt version (blank: all).")
    window_minutes = models.PositiveIntegerField(
        default=60,
        help_text="negative_rate and mean_score: feedback received in the last N minutes; agreement: verdicts given "
        "in the last N minutes (e.g. 10080, a week).",
    )
    comparison = models.CharField(max_length=3, choices=Comparison.choices, default=Comparison.GT)
    threshold = models.FloatField()
    min_volume = models.PositiveIntegerField(
        default=20,
        help_text="Below this much feedback (scores, cluster members, backlog items) the rule neither fires nor "
        "resolves.",
    )
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True, help_text="Signs the webhook body (HMAC-SHA256).")
    enabled = models.BooleanField(default=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "feedback_alertrule"  # the table of when this model lived in feedback
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_alert_rule_name")]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FIRING)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(help_text="The metric when the alert opened, then its latest value while firing.")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "feedback_alert"  # the table of when this model lived in feedback
        ordering = ["-opened_at"]
        constraints = [
            # No alert storms: the database itself refuses a second firing alert for one rule.
            models.UniqueConstraint(
                fields=["rule"], condition=models.Q(status="firing"), name="one_firing_alert_per_rule"
            )
        ]
        indexes = [models.Index(fields=["status", "-opened_at"], name="alert_status")]

    def __str__(self) -> str:
        return f"{self.rule} ({self.status})"


class WebhookDelivery(models.Model):
    """One attempt to deliver one alert event to its rule's webhook."""

    class Event(models.TextChoices):
        FIRING = "alert.firing", "Firing"
        RESOLVED = "alert.resolved", "Resolved"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=20, choices=Event.choices)
    url = models.URLField(max_length=500)
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "feedback_webhookdelivery"  # the table of when this model lived in feedback
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["alert", "event", "attempt"], name="webhook_delivery_alert")]
