"""Alert webhooks: a signed JSON POST, one WebhookDelivery row per attempt.

Signature (docs/monitoring.md): `X-Goldloop-Timestamp: <unix seconds>` and
`X-Goldloop-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>` over the exact body bytes.
A receiver recomputes it with the rule's secret, compares in constant time and refuses old timestamps.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from monitoring.models import Alert, WebhookDelivery

EXCERPT_CHARS = 500


class WebhookRetryableError(Exception):
    """The receiver may accept a later attempt: a network error, a timeout, 429 or 5xx."""


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_payload(*, alert: Alert, event: str) -> dict:
    rule = alert.rule
    return {
        "event": event,
        "alert": {
            "id": alert.pk,
            "status": alert.status,
            "opened_at": alert.opened_at,
            "resolved_at": alert.resolved_at,
            "value": alert.value,
            "details": alert.details,
        },
        "rule": {
            "id": rule.pk,
            "name": rule.name,
            "metric": rule.metric,
            "score_name": rule.score_name,
            "model": rule.model,
            "prompt_version": rule.prompt_version,
            "comparison": rule.comparison,
            "threshold": rule.threshold,
            "window_minutes": rule.window_minutes,
        },
        "project": rule.project.slug,
    }


def webhook_deliver(*, alert_id: int, event: str, attempt: int) -> WebhookDelivery:
    """POST the event once and log the attempt; raises WebhookRetryableError when another attempt may succeed."""
    alert = Alert.objects.select_related("rule__project").get(pk=alert_id)
    url = alert.rule.webhook_url
    body = json.dumps(webhook_payload(alert=alert, event=event), cls=DjangoJSONEncoder, sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "goldloop-alerts/1",
        "X-Goldloop-Event": event,
        # The same on every attempt, so that a receiver can drop a repeat it already processed.
        "X-Goldloop-Delivery": f"{alert.pk}-{event}",
        "X-Goldloop-Attempt": str(attempt),
        "X-Goldloop-Timestamp": str(timestamp),
        "X-Goldloop-Signature": webhook_signature(secret=alert.rule.webhook_secret, timestamp=timestamp, body=body),
    }
    delivery = WebhookDelivery(alert=alert, event=event, url=url, attempt=attempt)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # an admin-set URL
    retryable = False
    try:
        with urllib.request.urlopen(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS) as response:
            delivery.status_code = response.status
            delivery.response_excerpt = response.read(EXCERPT_CHARS).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        delivery.status_code = error.code
        delivery.response_excerpt = error.read(EXCERPT_CHARS).decode("utf-8", "replace")
        delivery.error = f"HTTP {error.code} {error.reason}"
        retryable = error.code == 429 or error.code >= 500
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        delivery.error = f"{type(error).__name__}: {error}"[:1000]
        retryable = True
    delivery.succeeded = delivery.status_code is not None and 200 <= delivery.status_code < 300
    delivery.save()
    if retryable:
        raise WebhookRetryableError(delivery.error)
    return delivery
