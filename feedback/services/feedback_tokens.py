"""Presigned feedback tokens (API.md, Connect): a browser posts feedback on one interaction with no API key.

A token is 32 random bytes shown once; only its sha256 is kept, as for API keys. Signing (django.core.signing)
would spare the lookup but not the row: "at most max_uses times" needs a counter in the database anyway, and a
random token whose hash is stored can be revoked by deleting its row, does not depend on SECRET_KEY staying
unchanged, and a read of the table yields nothing usable. A use is one UPDATE ... WHERE uses < max_uses AND not
expired, so concurrent posts can never exceed max_uses; the feedback goes through the capture service in the same
transaction (a refused feedback gives its use back).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.errors import ApplicationError
from feedback.models import FeedbackToken, Interaction
from feedback.services.capture import ItemResult, capture_ingest

TOKEN_PREFIX = "gft_"


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _bounded_int(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApplicationError(f"'{field}' must be an integer from {low} to {high}.", fields={field: ["out of range"]})
    return value


def feedback_token_create(
    *, project_id: int, interaction_external_id: str, name: str = "thumbs", expires_in: int = 86400, max_uses: int = 1
) -> tuple[FeedbackToken, str]:
    """A token for posting feedback `name` on one interaction; returns it with the raw token (shown once)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise ApplicationError("'name' must be 1 to 100 characters.", fields={"name": ["invalid"]})
    expires_in = _bounded_int(expires_in, "expires_in", 1, settings.FEEDBACK_TOKEN_MAX_EXPIRES_IN)
    max_uses = _bounded_int(max_uses, "max_uses", 1, 1000)
    if not isinstance(interaction_external_id, str) or not interaction_external_id:
        raise ApplicationError("Send the interaction's id.", fields={"interaction_id": ["This field is required."]})
    interaction = Interaction.objects.filter(project_id=project_id, external_id=interaction_external_id).first()
    if interaction is None:
        raise ApplicationError(
            f"No interaction '{interaction_external_id}' in this project.",
            code="interaction_not_found",
            status_code=404,
            fields={"interaction_id": ["not found"]},
        )
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = FeedbackToken.objects.create(
        project_id=project_id,
        interaction=interaction,
        name=name,
        token_hash=token_hash(raw_token),
        max_uses=max_uses,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
    )
    return token, raw_token


@dataclass(slots=True)
class _Use:
    token_id: int
    project_id: int
    name: str
    use_number: int
    interaction_external_id: str


def _refusal(raw_token: str) -> ApplicationError:
    """Why a token could not be used: unknown 404, expired 410, used up 409."""
    token = FeedbackToken.objects.filter(token_hash=token_hash(raw_token)).only("expires_at", "uses", "max_uses")
    token = token.first()
    if token is None:
        return ApplicationError("This feedback link is unknown.", code="not_found", status_code=404)
    if token.expires_at <= timezone.now():
        return ApplicationError("This feedback link has expired.", code="expired", status_code=410)
    return ApplicationError("This feedback link has already been used.", code="used_up", status_code=409)


def _item(use: _Use, body: dict) -> dict:
    value = body.get("value")
    item = {
        "id": f"token-{use.token_id}-{use.use_number}",
        "interaction_id": use.interaction_external_id,
        "comment": body.get("comment"),
        "correction": body.get("correction"),
        "source": "end_user",
        "metadata": {"via": "feedback_token"},
    }
    if value is not None:
        item.update(name=use.name, value=value)
    return {k: v for k, v in item.items() if v is not None}


def feedback_token_use(*, raw_token: str, body: dict) -> ItemResult:
    """Record one feedback ({value, comment, correction}) through a token; ApplicationError when refused."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE feedback_feedbacktoken t SET uses = t.uses + 1
                FROM feedback_interaction i
                WHERE t.token_hash = %s AND t.uses < t.max_uses AND t.expires_at > now() AND i.id = t.interaction_id
                RETURNING t.id, t.project_id, t.name, t.uses, i.external_id
                """,
                [token_hash(raw_token)],
            )
            row = cursor.fetchone()
        if row is None:
            raise _refusal(raw_token)
        use = _Use(*row)
        result = capture_ingest(project_id=use.project_id, interactions=[], feedback=[_item(use, body)]).feedback[0]
        if result.status >= 400:
            transaction.set_rollback(True)  # an invalid feedback does not spend a use
    return result
