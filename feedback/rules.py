"""The domain rules of feedback (API.md, Words), each written once as a SQL fragment that every path uses.

- A feedback is NEGATIVE when it is a thumbs down, a number under the project's threshold for its name, or a
  correction (a correction is present when it is neither SQL NULL nor JSON null nor an empty string).
- An interaction is a FAILURE when it has negative feedback or when its latest CURRENT SME review (one not
  superseded: a withdrawn or replaced verdict no longer counts) says 'corrected'.

The rules are SQL because the paths that apply them are set-based statements (capture inserts a batch with one
statement, a threshold change re-judges a project's feedback with one UPDATE, a review refreshes its interactions
with one UPDATE); each fragment takes the SQL expressions it reads, so that each statement passes its own aliases.
The results are stored (Feedback.is_negative, Interaction.negative_count and is_failure), so that reads filter on
columns and never re-derive the rules.
"""

from feedback.models import Review

THUMBS = "thumbs"
CORRECTED = Review.Verdict.CORRECTED.value


def has_correction_sql(correction: str) -> str:
    """True when `correction` (a jsonb expression, or JSON text) holds a correction."""
    return f"(coalesce({correction}::jsonb NOT IN ('null'::jsonb, '\"\"'::jsonb), false))"


def is_negative_sql(*, name: str, value_number: str, correction: str, threshold: str) -> str:
    """True when the feedback with these columns is negative; `threshold` is the project's threshold for its
    name (NULL when it has none)."""
    return (
        f"(coalesce({name} = '{THUMBS}' AND {value_number} = 0, false)"
        f" OR coalesce({value_number} < {threshold}, false)"
        f" OR {has_correction_sql(correction)})"
    )


def latest_current_verdict_sql(interaction_id: str) -> str:
    """The verdict of the interaction's latest current (not superseded) review, NULL when it has none."""
    return (
        "(SELECT rv.verdict FROM feedback_review rv"
        f" WHERE rv.interaction_id = {interaction_id} AND rv.superseded_at IS NULL"
        " ORDER BY rv.created_at DESC, rv.id DESC LIMIT 1)"
    )


def is_failure_sql(*, negative_count: str, interaction_id: str) -> str:
    """True when the interaction with this id and this number of negative feedback is a failure."""
    return (
        f"(coalesce({negative_count}, 0) > 0"
        f" OR coalesce({latest_current_verdict_sql(interaction_id)} = '{CORRECTED}', false))"
    )
