"""Projects: creation, and the settings the admin changes (score thresholds)."""

from django.db import connection, transaction

from feedback.models import Project
from feedback.rules import is_negative_sql
from feedback.services.failures import failures_enqueue_embedding, interactions_refresh_state

_IS_NEGATIVE = is_negative_sql(
    name="f.name", value_number="f.value_number", correction="f.correction", threshold="st.threshold"
)
_RENEGATE_SQL = f"""
UPDATE feedback_feedback AS fb
SET is_negative = s.is_negative
FROM (
    SELECT f.id, {_IS_NEGATIVE} AS is_negative
    FROM feedback_feedback f
    LEFT JOIN feedback_scorethreshold st ON st.project_id = f.project_id AND st.name = f.name
    WHERE f.project_id = %s AND f.name = ANY(%s)
) AS s
WHERE fb.id = s.id AND fb.is_negative IS DISTINCT FROM s.is_negative
RETURNING fb.interaction_id
"""


def project_get_or_create(*, slug: str, name: str | None = None) -> Project:
    project, _ = Project.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    return project


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
