"""API keys: creation, revocation, and recording a key's use when a request authenticates with it."""

import secrets

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from feedback.models import ApiKey, Project
from feedback.selectors.api_key_lookup import api_key_remember_last_used, api_key_resolve
from feedback.selectors.api_keys import LAST_USED_RESOLUTION_SECONDS, api_key_hash

KEY_PREFIX = "gl_"


@transaction.atomic
def api_key_create(*, project: Project, scopes: list[str], name: str = "", created_by=None) -> tuple[ApiKey, str]:
    """Create a key; returns it with the raw secret, which is never stored and shown only this once."""
    valid = set(ApiKey.Scope.values)
    unknown = sorted(set(scopes) - valid)
    if unknown or not scopes:
        raise ApplicationError(
            f"Scopes must be a non-empty subset of {', '.join(sorted(valid))}.",
            fields={"scopes": [f"unknown scope: {s}" for s in unknown] or ["no scope given"]},
        )
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        project=project,
        name=name,
        prefix=raw_key[:12],
        secret_hash=api_key_hash(raw_key),
        scopes=sorted(set(scopes)),
        created_by=created_by,
    )
    return api_key, raw_key


def api_keys_revoke(*, api_key_ids: list[int]) -> int:
    """Revoke these keys now (a revoked key answers 401 from its next request); returns how many changed."""
    return ApiKey.objects.filter(pk__in=api_key_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key of a bearer token (settings.API_KEY_RESOLVER), its use recorded at most once a minute."""
    api_key = api_key_resolve(raw_key)
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
        api_key_remember_last_used(raw_key, now)
    return api_key
