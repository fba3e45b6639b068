"""Monitoring tasks: rollup refresh and alert evaluation (both on beat, every minute), webhook delivery."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from feedback.models import Project
from monitoring.models import Alert
from monitoring.services.alerts import alert_rules_evaluate
from monitoring.services.rollups import rollups_refresh, rollups_refresh_all
from monitoring.services.webhooks import WebhookRetryableError, webhook_deliver


@shared_task(
    name="monitoring.tasks.refresh_feedback_rollups",
    autoretry_for=(OperationalError,),
    max_retries=2,
    expires=55,  # the next tick refreshes anyway; stale refreshes would only queue up
    ignore_result=True,
)
def refresh_feedback_rollups(project_id: int | None = None) -> None:
    """Recompute recent and touched hours of one project, or of every project with interactions."""
    if project_id is None:
        rollups_refresh_all()
    else:
        rollups_refresh(project=Project.objects.get(pk=project_id))


@shared_task(
    name="monitoring.tasks.evaluate_alert_rules",
    autoretry_for=(OperationalError,),
    max_retries=2,
    expires=55,
    ignore_result=True,
)
def evaluate_alert_rules() -> None:
    alert_rules_evaluate()


@shared_task(
    bind=True,
    name="monitoring.tasks.deliver_alert_webhook",
    acks_late=True,  # a lost worker redelivers; the receiver sees the same X-Goldloop-Delivery
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_alert_webhook(self, alert_id: int, event: str) -> None:
    """POST one alert event; retried with exponential backoff on network errors, 429 and 5xx only."""
    try:
        webhook_deliver(alert_id=alert_id, event=event, attempt=self.request.retries + 1)
    except Alert.DoesNotExist:
        return  # deleted (with its rule) since: nothing left to tell
    except WebhookRetryableError as error:
        countdown = settings.ALERT_WEBHOOK_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown, max_retries=settings.ALERT_WEBHOOK_MAX_RETRIES) from error
