"""Claims: two SMEs never hold the same item (database-guaranteed), claims lapse, and every claim is audited."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.errors import ApplicationError
from feedback.models import ClaimEvent, Interaction
from feedback.services import claims
from tests.feedback.review_fixtures import make_failures, make_user, review_project_fixture, sme2_fixture, sme_fixture  # noqa: F401 - fixtures

Status = Interaction.ReviewStatus


def _run_concurrently(functions):
    """Start every function at the same instant in its own thread (own DB connection); return results in order."""
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 - reported to the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


def test_next_claims_in_queue_order_and_marks_in_review(review_project, sme):
    low, high = make_failures(review_project, 2)
    item = claims.claim_next(user=sme)
    assert item.pk == high.pk  # the most negative feedback first
    assert item.claimed_by == sme and item.review_status == Status.IN_REVIEW
    assert item.claim_expires_at > timezone.now() + timedelta(minutes=14)
    assert ClaimEvent.objects.filter(interaction=high, user=sme, action="claimed").count() == 1


def test_next_returns_own_live_claim_first_then_skips_it(review_project, sme):
    make_failures(review_project, 3)
    first = claims.claim_next(user=sme)
    assert claims.claim_next(user=sme).pk == first.pk
    other = claims.claim_next(user=sme, exclude_ids=[first.pk])
    assert other.pk != first.pk


def test_claim_held_by_another_is_refused_then_expires(review_project, sme, sme2, settings):
    settings.REVIEW_CLAIM_MINUTES = 15
    (item,) = make_failures(review_project, 1)
    claims.claim(interaction_id=item.pk, user=sme)
    with pytest.raises(ApplicationError) as refused:
        claims.claim(interaction_id=item.pk, user=sme2)
    assert refused.value.status_code == 409
    assert claims.claim_next(user=sme2) is None

    Interaction.objects.filter(pk=item.pk).update(claim_expires_at=timezone.now() - timedelta(seconds=1))
    taken = claims.claim_next(user=sme2)
    assert taken.pk == item.pk and taken.claimed_by == sme2
    trail = list(ClaimEvent.objects.filter(interaction=item).order_by("id").values_list("user__username", "action"))
    assert trail == [("sme-jane", "claimed"), ("sme-jane", "expired"), ("sme-omar", "claimed")]


def test_claim_minutes_setting(review_project, sme, settings):
    settings.REVIEW_CLAIM_MINUTES = 2
    (item,) = make_failures(review_project, 1)
    claimed = claims.claim(interaction_id=item.pk, user=sme)
    assert timedelta(minutes=1) < claimed.claim_expires_at - timezone.now() <= timedelta(minutes=2)


def test_release_and_sweep_of_lapsed_claims(review_project, sme, sme2):
    a, b = make_failures(review_project, 2)
    claims.claim(interaction_id=a.pk, user=sme)
    assert claims.release(interaction_id=a.pk, user=sme2) is False  # not theirs
    assert claims.release(interaction_id=a.pk, user=sme) is True
    a.refresh_from_db()
    assert a.claimed_by is None and a.review_status == Status.UNREVIEWED

    claims.claim(interaction_id=b.pk, user=sme2)
    Interaction.objects.filter(pk=b.pk).update(claim_expires_at=timezone.now() - timedelta(minutes=1))
    assert claims.claims_expire() == 1
    b.refresh_from_db()
    assert b.claimed_by is None and b.review_status == Status.UNREVIEWED
    assert ClaimEvent.objects.filter(interaction=b, user=sme2, action="expired").exists()
    assert claims.claims_expire() == 0  # idempotent


def test_the_beat_task_sweeps_lapsed_claims(review_project, sme, settings):
    from feedback.tasks import expire_review_claims

    assert settings.CELERY_BEAT_SCHEDULE["expire-review-claims"]["task"] == expire_review_claims.name
    (item,) = make_failures(review_project, 1)
    claims.claim(interaction_id=item.pk, user=sme)
    Interaction.objects.filter(pk=item.pk).update(claim_expires_at=timezone.now() - timedelta(seconds=1))
    expire_review_claims()
    item.refresh_from_db()
    assert item.claimed_by is None and item.review_status == Status.UNREVIEWED


@pytest.mark.django_db(transaction=True)
def test_concurrent_next_never_hands_out_an_item_twice(review_project):
    make_failures(review_project, 5)
    users = [make_user(f"sme-{i}") for i in range(8)]
    results = _run_concurrently([lambda u=u: claims.claim_next(user=u) for u in users])
    claimed = [r.pk for r in results if r is not None]
    assert len(claimed) == 5 and len(set(claimed)) == 5
    holders = dict(Interaction.objects.filter(claimed_by__isnull=False).values_list("pk", "claimed_by_id"))
    assert len(holders) == 5 and len(set(holders.values())) == 5
    assert ClaimEvent.objects.filter(action="claimed").count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_item_one_wins(review_project):
    (item,) = make_failures(review_project, 1)
    users = [make_user(f"sme-{i}") for i in range(6)]

    def attempt(user):
        try:
            return claims.claim(interaction_id=item.pk, user=user).claimed_by_id
        except ApplicationError:
            return None

    results = _run_concurrently([lambda u=u: attempt(u) for u in users])
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    item.refresh_from_db()
    assert item.claimed_by_id == winners[0]


@pytest.mark.django_db(transaction=True)
def test_next_skips_a_row_locked_by_another_transaction(review_project):
    low, high = make_failures(review_project, 2)
    a, b = make_user("sme-a"), make_user("sme-b")
    locked, done = threading.Event(), threading.Event()
    seen = {}

    def hold_top_row():
        with transaction.atomic():
            seen["a"] = claims.claim_next(user=a).pk  # holds the row lock until this block ends
            locked.set()
            done.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_top_row)
    holder.start()
    assert locked.wait(10)
    try:
        started = timezone.now()
        other = claims.claim_next(user=b)
        waited = (timezone.now() - started).total_seconds()
    finally:
        done.set()
        holder.join(10)
    assert seen["a"] == high.pk and other.pk == low.pk
    assert waited < 2  # SKIP LOCKED: no waiting on the other SME's transaction
