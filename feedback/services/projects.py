"""Project settings that the admin changes: API key revocation and score thresholds."""

from django.db import connection, transaction
from django.utils import timezone

from feedback.models import ApiKey
from feedback.services.failures import failures_enqueue_embedding, interactions_refresh_state

_RENEGATE_SQL = """
UPDATE feedback_feedback AS fb
SET is_negative = s.is_negative
FROM (
    SELECT f.id,
           coalesce(f.name = 'thumbs' AND f.value_number = 0, false)
               OR coalesce(f.value_number < st.threshold, false) OR f.correction IS NOT NULL AS is_negative
    FROM feedback_feedback f
    LEFT JOIN feedback_scorethreshold st ON st.project_id = f.project_id AND st.name = f.name
    WHERE f.project_id = %s AND f.name = ANY(%s)
) AS s
WHERE fb.id = s.id AND fb.is_negative IS DISTINCT FROM s.is_negative
RETURNING fb.interaction_id
"""


def api_keys_revoke(*, api_key_ids: list[int]) -> int:
    """Revoke these keys now (a revoked key answers 401 from its next request); returns how many changed."""
    return ApiKey.objects.filter(pk__in=api_key_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def score_thresholds_apply(*, project_id: int, names: list[str]) -> list[int]:
    """Re-judge the project's feedback with these names after their thresholds changed (or were removed),
    refresh the interactions whose feedback changed, and embed the new failures. Returns those failures."""
    if not names:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_RENEGATE_SQL, [project_id, list(names)])
        touched = {row[0] for row in cursor.fetchall()}
    new_failures = interactions_refresh_state(interaction_ids=list(touched))
    failures_enqueue_embedding(interaction_ids=new_failures)
    return new_failures
