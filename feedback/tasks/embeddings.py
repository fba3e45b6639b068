from celery import shared_task


@shared_task(name="feedback.tasks.embed_interactions", acks_late=True, ignore_result=True)
def embed_interactions(interaction_ids: list[int]) -> None:
    """Embed these failures (placeholder until clustering lands; capture already enqueues it on commit)."""
