"""Alert webhooks: signed with HMAC-SHA256, retried with backoff on 5xx, every attempt logged."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from monitoring.models import Alert, AlertRule, WebhookDelivery
from monitoring.services.alerts import alert_rule_evaluate
from monitoring.services.webhooks import webhook_deliver
from monitoring.tasks import deliver_alert_webhook
from tests.factories import FeedbackFactory

SECRET = "s3cret-for-tests"


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers with the given statuses in turn (the last one repeats)."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 400 else b"temporarily broken")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/goldloop"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def firing_alert(project, url: str) -> Alert:
    rule = AlertRule.objects.create(
        project=project,
        name="Negative rate",
        metric=AlertRule.Metric.NEGATIVE_RATE,
        threshold=0.5,
        min_volume=1,
        webhook_url=url,
        webhook_secret=SECRET,
    )
    return Alert.objects.create(rule=rule, opened_at=timezone.now(), value=0.9, details={"feedback": 10})


def verify(headers: dict, body: bytes) -> bool:
    """What a receiver does: recompute the HMAC over '<timestamp>.<body>' and compare in constant time."""
    timestamp = headers["X-Goldloop-Timestamp"]
    expected = "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(expected, headers["X-Goldloop-Signature"])


def test_the_webhook_is_signed_and_logged(project):
    with Receiver([200]) as receiver:
        alert = firing_alert(project, receiver.url)
        delivery = webhook_deliver(alert_id=alert.pk, event="alert.firing", attempt=1)
    assert delivery.succeeded and delivery.status_code == 200 and delivery.response_excerpt == "ok"
    (request,) = receiver.requests
    assert verify(request["headers"], request["body"])
    payload = json.loads(request["body"])
    assert payload["event"] == "alert.firing"
    assert payload["alert"]["id"] == alert.pk and payload["alert"]["value"] == 0.9
    assert payload["rule"]["metric"] == "negative_rate" and payload["project"] == "support-bot"

    tampered = request["body"].replace(b"0.9", b"0.1")
    assert not verify(request["headers"], tampered)


def test_retries_after_a_500_and_logs_every_attempt(project, settings):
    settings.ALERT_WEBHOOK_RETRY_BASE_SECONDS = 0
    with Receiver([500, 200]) as receiver:
        alert = firing_alert(project, receiver.url)
        # Eager apply runs the retry at once, through the same task code as a worker.
        deliver_alert_webhook.apply(args=[alert.pk, "alert.firing"])
    attempts = list(WebhookDelivery.objects.filter(alert=alert).order_by("attempt"))
    assert [(d.attempt, d.status_code, d.succeeded) for d in attempts] == [(1, 500, False), (2, 200, True)]
    assert attempts[0].error == "HTTP 500 Internal Server Error"
    assert attempts[0].response_excerpt == "temporarily broken"
    assert len(receiver.requests) == 2


def test_a_4xx_is_not_retried(project):
    with Receiver([410]) as receiver:
        alert = firing_alert(project, receiver.url)
        deliver_alert_webhook.apply(args=[alert.pk, "alert.firing"])
    assert list(WebhookDelivery.objects.values_list("attempt", "status_code", "succeeded")) == [(1, 410, False)]
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_logged_and_retried_until_the_limit(project, settings):
    settings.ALERT_WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.ALERT_WEBHOOK_MAX_RETRIES = 2
    alert = firing_alert(project, "http://127.0.0.1:9/nothing-listens-here")
    deliver_alert_webhook.apply(args=[alert.pk, "alert.firing"])
    deliveries = list(WebhookDelivery.objects.order_by("attempt"))
    assert [d.attempt for d in deliveries] == [1, 2, 3]
    assert all(not d.succeeded and d.status_code is None and "URLError" in d.error for d in deliveries)


@pytest.mark.worker
def test_a_real_worker_delivers_firing_then_resolved_with_backoff(transactional_db, project, celery_worker, wait_until):
    with Receiver([500, 200]) as receiver:
        rule = AlertRule.objects.create(
            project=project,
            name="Negative rate",
            metric=AlertRule.Metric.NEGATIVE_RATE,
            threshold=0.5,
            min_volume=2,
            webhook_url=receiver.url,
            webhook_secret=SECRET,
        )
        when = timezone.now() - timedelta(minutes=2)
        for _ in range(2):
            FeedbackFactory(interaction__project=project, is_negative=True, created_at=when)
        alert = alert_rule_evaluate(rule=rule)  # commits, then enqueues the delivery

        def delivered():
            return WebhookDelivery.objects.filter(alert=alert, succeeded=True).exists()

        assert wait_until(delivered, timeout=60)
        attempts = list(WebhookDelivery.objects.filter(alert=alert).order_by("attempt"))
        assert [(d.attempt, d.status_code) for d in attempts] == [(1, 500), (2, 200)]
        # The retry waited for its backoff (ALERT_WEBHOOK_RETRY_BASE_SECONDS, 5 s by default).
        gap = receiver.requests[1]["at"] - receiver.requests[0]["at"]
        assert gap >= 4
        assert all(verify(request["headers"], request["body"]) for request in receiver.requests)

        for _ in range(8):
            FeedbackFactory(interaction__project=project, is_negative=False, created_at=when)
        assert alert_rule_evaluate(rule=rule) is None

        def resolved_delivered():
            return WebhookDelivery.objects.filter(alert=alert, event="alert.resolved", succeeded=True).exists()

        assert wait_until(resolved_delivered, timeout=30)
        assert json.loads(receiver.requests[-1]["body"])["alert"]["status"] == "resolved"
