"""Reads of the feedback app. Each returns ready-to-use querysets or objects, with their relations loaded."""

import hashlib

from django.utils import timezone

from feedback.models import ApiKey

# last_used_at is written at most this often per key, so that hot ingest paths do not update it every request.
_LAST_USED_RESOLUTION_SECONDS = 60


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_resolve(raw_key: str) -> ApiKey | None:
    """The active key for a raw bearer token, with its project, or None."""
    prefix = raw_key[:12]
    api_key = (
        ApiKey.objects.select_related("project")
        .filter(prefix=prefix, revoked_at__isnull=True, secret_hash=api_key_hash(raw_key))
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > _LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
