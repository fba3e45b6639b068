"""Writes of the feedback app."""

import secrets

from django.db import transaction

from core.errors import ApplicationError
from feedback.models import ApiKey, Project
from feedback.selectors.api_keys import api_key_hash

KEY_PREFIX = "gl_"


def project_get_or_create(*, slug: str, name: str | None = None) -> Project:
    project, _ = Project.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    return project


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
