"""Alert rules fire once, hold while the metric stays bad, and resolve by themselves when it recovers."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.models import Cluster, Interaction
from monitoring.models import Alert, AlertRule
from monitoring.services.alerts import alert_rule_evaluate, alert_rules_evaluate
from tests.factories import FailureFactory, FeedbackFactory, InteractionFactory


def add_feedback(project, *, negative: int, positive: int, minutes_ago: int = 5, model: str = "gpt-4o-mini"):
    when = timezone.now() - timedelta(minutes=minutes_ago)
    for index in range(negative + positive):
        interaction = InteractionFactory(project=project, model=model)
        FeedbackFactory(interaction=interaction, created_at=when, is_negative=index < negative)


@pytest.fixture
def rule(project):
    return AlertRule.objects.create(
        project=project,
        name="Too many thumbs down",
        metric=AlertRule.Metric.NEGATIVE_RATE,
        window_minutes=60,
        comparison=AlertRule.Comparison.GT,
        threshold=0.3,
        min_volume=10,
    )


def test_a_rule_fires_holds_and_resolves(project, rule):
    add_feedback(project, negative=6, positive=4)  # 60% negative, 10 judgements
    alert = alert_rule_evaluate(rule=rule)
    assert alert is not None and alert.status == Alert.Status.FIRING
    assert alert.value == pytest.approx(0.6)
    assert alert.details["feedback"] == 10 and alert.details["negative"] == 6

    add_feedback(project, negative=2, positive=0)  # still bad: 8/12
    held = alert_rule_evaluate(rule=rule)
    assert held.pk == alert.pk
    assert Alert.objects.filter(rule=rule).count() == 1
    held.refresh_from_db()
    assert held.value == pytest.approx(8 / 12)

    add_feedback(project, negative=0, positive=28)  # recovered: 8/40 = 0.2
    assert alert_rule_evaluate(rule=rule) is None
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_at is not None
    rule.refresh_from_db()
    assert rule.last_value == pytest.approx(0.2)

    add_feedback(project, negative=40, positive=0)  # a new breach opens a new alert
    assert alert_rules_evaluate() == 1
    assert Alert.objects.filter(rule=rule).count() == 2
    assert Alert.objects.filter(rule=rule, status=Alert.Status.FIRING).count() == 1


def test_below_the_minimum_volume_a_rule_neither_fires_nor_resolves(project, rule):
    add_feedback(project, negative=5, positive=0)
    assert alert_rule_evaluate(rule=rule) is None
    assert not Alert.objects.exists()


def test_feedback_outside_the_window_or_of_another_model_does_not_count(project, rule):
    add_feedback(project, negative=20, positive=0, minutes_ago=90)
    add_feedback(project, negative=20, positive=0, model="other-model")
    rule.model = "gpt-4o-mini"
    rule.save()
    assert alert_rule_evaluate(rule=rule) is None


def test_the_database_allows_one_firing_alert_per_rule(rule):
    now = timezone.now()
    Alert.objects.create(rule=rule, opened_at=now, value=1.0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(rule=rule, opened_at=now, value=1.0)
    Alert.objects.create(rule=rule, opened_at=now, value=1.0, status=Alert.Status.RESOLVED)


def test_mean_score_rule_uses_only_its_score_name(project):
    rule = AlertRule.objects.create(
        project=project,
        name="Helpfulness dropped",
        metric=AlertRule.Metric.MEAN_SCORE,
        score_name="helpfulness",
        comparison=AlertRule.Comparison.LT,
        threshold=3.0,
        min_volume=3,
    )
    when = timezone.now() - timedelta(minutes=1)
    for name, value in (("helpfulness", 2), ("helpfulness", 2), ("helpfulness", 3.5), ("accuracy", 10)):
        FeedbackFactory(
            interaction__project=project, name=name, data_type="NUMERIC", value_number=value, created_at=when
        )
    alert = alert_rule_evaluate(rule=rule)
    assert alert.value == pytest.approx(2.5)


def test_backlog_age_and_cluster_growth_rules(project):
    old = FailureFactory(project=project)
    Interaction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=30))
    FailureFactory(project=project, review_status=Interaction.ReviewStatus.REVIEWED)
    backlog = AlertRule.objects.create(
        project=project, name="Backlog", metric=AlertRule.Metric.BACKLOG_AGE, threshold=24, min_volume=1
    )
    alert = alert_rule_evaluate(rule=backlog)
    assert alert.value == pytest.approx(30, abs=0.1)
    assert alert.details["unreviewed_failures"] == 1

    Cluster.objects.create(project=project, label="refund policy", size=40, size_previous_run=10)
    Cluster.objects.create(project=project, label="greetings", size=100, size_previous_run=95)
    growth = AlertRule.objects.create(
        project=project, name="Growth", metric=AlertRule.Metric.CLUSTER_GROWTH, threshold=20, min_volume=5
    )
    alert = alert_rule_evaluate(rule=growth)
    assert alert.value == 30
    assert alert.details["label"] == "refund policy"


def test_the_admin_form_refuses_a_webhook_without_secret_and_a_rate_above_one(project):
    from monitoring.admin.alerts import AlertRuleForm

    base = {
        "project": project.pk,
        "name": "r",
        "metric": "negative_rate",
        "window_minutes": 60,
        "comparison": "gt",
        "min_volume": 10,
        "enabled": True,
    }
    form = AlertRuleForm(data={**base, "threshold": 1.5, "webhook_url": "https://hooks.example.com/x"})
    assert not form.is_valid()
    assert set(form.errors) == {"threshold", "webhook_secret"}
    form = AlertRuleForm(
        data={**base, "threshold": 0.25, "webhook_url": "https://hooks.example.com/x", "webhook_secret": "s"}
    )
    assert form.is_valid(), form.errors


def test_beat_evaluates_rules_every_minute_on_the_alerts_queue(settings):
    from config.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["monitoring.tasks.evaluate_alert_rules"] == 60
    assert schedule["monitoring.tasks.refresh_feedback_rollups"] == 60
    for task in ("monitoring.tasks.evaluate_alert_rules", "monitoring.tasks.deliver_alert_webhook"):
        assert app.amqp.router.route({}, task)["queue"].name == "alerts"
    assert app.amqp.router.route({}, "monitoring.tasks.refresh_feedback_rollups")["queue"].name == "default"
