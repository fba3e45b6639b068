"""Alert rules: measure, compare, and open or resolve at most one firing alert per rule.

A rule whose metric breaches its threshold opens an alert (the database refuses a second firing one: constraint
`one_firing_alert_per_rule`); later evaluations that still breach only update its value; the first evaluation that
does not breach resolves it. Below the rule's minimum volume nothing changes, either way: too little data to judge.
Each opening and resolution sends the rule's webhook (services/webhooks.py) after the transaction commits.
"""

import logging
import operator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from feedback.models import Cluster, Feedback, Interaction
from feedback.selectors.agreement import agreement_alpha
from monitoring.models import Alert, AlertRule, WebhookDelivery

logger = logging.getLogger(__name__)

COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


@dataclass
class Measurement:
    value: float | None
    volume: int
    details: dict = field(default_factory=dict)


def _feedback_in_window(rule: AlertRule, now: datetime):
    queryset = Feedback.objects.filter(
        project_id=rule.project_id, created_at__gte=now - timedelta(minutes=rule.window_minutes), created_at__lt=now
    )
    if rule.model:
        queryset = queryset.filter(interaction__model=rule.model)
    if rule.prompt_version:
        queryset = queryset.filter(interaction__prompt_version=rule.prompt_version)
    return queryset


def _measure(rule: AlertRule, now: datetime) -> Measurement:
    metric = rule.metric
    if metric == AlertRule.Metric.NEGATIVE_RATE:
        counts = _feedback_in_window(rule, now).aggregate(
            total=Count("id"), negative=Count("id", filter=Q(is_negative=True))
        )
        value = counts["negative"] / counts["total"] if counts["total"] else None
        return Measurement(value, counts["total"], {"feedback": counts["total"], "negative": counts["negative"]})
    if metric == AlertRule.Metric.MEAN_SCORE:
        scores = _feedback_in_window(rule, now).filter(data_type=Feedback.DataType.NUMERIC, value_number__isnull=False)
        if rule.score_name:
            scores = scores.filter(name=rule.score_name)
        result = scores.aggregate(count=Count("id"), total=Sum("value_number"))
        value = result["total"] / result["count"] if result["count"] else None
        return Measurement(value, result["count"], {"scores": result["count"], "score_name": rule.score_name})
    if metric == AlertRule.Metric.CLUSTER_GROWTH:
        cluster = (
            Cluster.objects.filter(project_id=rule.project_id, is_active=True)
            .annotate(member_growth=F("size") - F("size_previous_run"))
            .order_by("-member_growth", "-size")
            .first()
        )
        if cluster is None:
            return Measurement(None, 0)
        details = {"cluster_id": cluster.pk, "label": cluster.label, "size": cluster.size}
        return Measurement(float(cluster.member_growth), cluster.size, details)
    if metric == AlertRule.Metric.BACKLOG_AGE:
        backlog = Interaction.objects.filter(
            project_id=rule.project_id, is_failure=True, review_status=Interaction.ReviewStatus.UNREVIEWED
        )
        result = backlog.aggregate(count=Count("id"), oldest=Min("created_at"))
        if not result["count"]:
            return Measurement(None, 0)
        hours = (now - result["oldest"]).total_seconds() / 3600
        return Measurement(hours, result["count"], {"unreviewed_failures": result["count"]})
    if metric == AlertRule.Metric.AGREEMENT:
        alpha, items = agreement_alpha(
            project=rule.project, since=now - timedelta(minutes=rule.window_minutes), until=now
        )
        return Measurement(alpha, items, {"items_with_two_verdicts": items})
    raise ValueError(f"Unknown metric {metric!r}")


def _notify(alert: Alert, event: str) -> None:
    if not alert.rule.webhook_url:
        return
    from monitoring.tasks import deliver_alert_webhook  # tasks import services; this is the one way back

    transaction.on_commit(lambda: deliver_alert_webhook.delay(alert.pk, event))


@transaction.atomic
def alert_rule_evaluate(*, rule: AlertRule, now: datetime | None = None) -> Alert | None:
    """Evaluate one rule; returns its firing alert, if any, after the evaluation."""
    now = now or timezone.now()
    rule = AlertRule.objects.select_for_update().select_related("project").get(pk=rule.pk)
    measurement = _measure(rule, now)
    firing = Alert.objects.filter(rule=rule, status=Alert.Status.FIRING).first()
    rule.last_evaluated_at, rule.last_value = now, measurement.value
    rule.save(update_fields=["last_evaluated_at", "last_value"])
    if measurement.value is None or measurement.volume < rule.min_volume:
        return firing
    details = {**measurement.details, "volume": measurement.volume, "threshold": rule.threshold}
    breached = COMPARE[rule.comparison](measurement.value, rule.threshold)
    if breached and firing is not None:
        firing.value, firing.details = measurement.value, {**firing.details, "latest": details}
        firing.save(update_fields=["value", "details"])
        return firing
    if breached:
        try:
            with transaction.atomic():
                firing = Alert.objects.create(rule=rule, opened_at=now, value=measurement.value, details=details)
        except IntegrityError:
            # Another evaluator opened it first; the constraint keeps it to one.
            return Alert.objects.filter(rule=rule, status=Alert.Status.FIRING).first()
        _notify(firing, WebhookDelivery.Event.FIRING)
        return firing
    if firing is not None:
        firing.status, firing.resolved_at = Alert.Status.RESOLVED, now
        firing.details = {**firing.details, "resolved_with": details}
        firing.save(update_fields=["status", "resolved_at", "details"])
        _notify(firing, WebhookDelivery.Event.RESOLVED)
    return None


def alert_rules_evaluate(*, now: datetime | None = None) -> int:
    """Evaluate every enabled rule, each in its own transaction; returns how many alerts are firing."""
    firing = 0
    for rule in AlertRule.objects.filter(enabled=True).order_by("pk"):
        if alert_rule_evaluate(rule=rule, now=now) is not None:
            firing += 1
    return firing
