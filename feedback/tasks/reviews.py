from celery import shared_task

from feedback.services.claims import claims_expire


@shared_task(name="feedback.tasks.expire_review_claims", ignore_result=True, expires=120)
def expire_review_claims() -> None:
    """Clear lapsed review claims (idempotent; beat runs it every minute, a missed run is harmless)."""
    claims_expire()
