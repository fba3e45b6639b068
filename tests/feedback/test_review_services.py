"""Review rules, derived review status, supersession, bulk verdicts and the verdict audit trail."""

import pytest

from core.errors import ApplicationError
from feedback.models import ClaimEvent, ErrorCategory, Interaction, Review
from feedback.services import claims
from feedback.services.reviews import (
    correction_parse,
    review_create,
    review_supersede,
    reviews_mark_invalid,
    reviews_set_category,
)
from tests.factories import InteractionFactory, ProjectFactory
from tests.feedback.review_fixtures import make_failures, review_project_fixture, sme2_fixture, sme_fixture  # noqa: F401 - fixtures

Status = Interaction.ReviewStatus


def test_corrected_needs_a_correction_that_differs(review_project, sme):
    (item,) = make_failures(review_project, 1)
    for bad in (None, "", "   ", item.output):
        with pytest.raises(ApplicationError) as error:
            review_create(interaction=item, verdict="corrected", correction=bad, reviewer=sme)
        assert "correction" in error.value.fields
    with pytest.raises(ApplicationError):
        review_create(interaction=item, verdict="correct", correction="something", reviewer=sme)
    with pytest.raises(ApplicationError):
        review_create(interaction=item, verdict="wrong", reviewer=sme)
    assert not Review.objects.exists()


def test_category_of_another_project_is_refused(review_project, sme):
    (item,) = make_failures(review_project, 1)
    elsewhere = ErrorCategory.objects.create(project=ProjectFactory(slug="other"), name="tone")
    with pytest.raises(ApplicationError):
        review_create(interaction=item, verdict="invalid", error_category=elsewhere, reviewer=sme)


def test_review_marks_reviewed_ends_claim_and_refreshes_failure(review_project, sme):
    item = InteractionFactory(project=review_project)  # not a failure yet: no negative feedback
    claims.claim(interaction_id=item.pk, user=sme)
    review = review_create(interaction=item, verdict="corrected", correction="Refunds take 14 days.", reviewer=sme)
    item.refresh_from_db()
    assert item.review_status == Status.REVIEWED
    assert item.claimed_by is None and item.claim_expires_at is None
    assert ClaimEvent.objects.filter(interaction=item, user=sme, action="completed").exists()
    assert item.is_failure  # a 'corrected' verdict makes a failure (capture's interactions_refresh_state)
    assert review.reviewer_name == "sme-jane"
    history = review.history.get()
    assert history.history_user == sme and history.history_type == "+"


def test_review_on_an_item_held_by_another_sme_is_refused(review_project, sme, sme2):
    (item,) = make_failures(review_project, 1)
    claims.claim(interaction_id=item.pk, user=sme)
    with pytest.raises(ApplicationError) as error:
        review_create(interaction=item, verdict="correct", reviewer=sme2)
    assert error.value.status_code == 409


def test_a_second_verdict_supersedes_the_reviewers_first_and_keeps_others(review_project, sme, sme2):
    (item,) = make_failures(review_project, 1)
    first = review_create(interaction=item, verdict="corrected", correction="A", reviewer=sme)
    other = review_create(interaction=item, verdict="correct", reviewer=sme2)
    second = review_create(interaction=item, verdict="corrected", correction="B", reviewer=sme)
    first.refresh_from_db()
    other.refresh_from_db()
    assert first.superseded_at is not None and other.superseded_at is None and second.superseded_at is None
    # the correction change is in the audit trail: both corrections, each with who and when
    trail = Review.history.filter(interaction=item, reviewer=sme).order_by("history_id")
    assert [(h.correction, h.history_type, h.superseded_at is not None) for h in trail] == [
        ("A", "+", False),
        ("A", "~", True),
        ("B", "+", False),
    ]
    assert all(h.history_user == sme for h in trail)


def test_status_goes_back_to_unreviewed_when_every_verdict_is_withdrawn(review_project, sme):
    (item,) = make_failures(review_project, 1)
    review = review_create(interaction=item, verdict="correct", reviewer=sme)
    review_supersede(review=review, user=sme)
    item.refresh_from_db()
    assert item.review_status == Status.UNREVIEWED


def test_bulk_invalid_is_by_the_acting_user_and_skips_items_held_by_others(review_project, sme, sme2):
    a, b, c = make_failures(review_project, 3)
    claims.claim(interaction_id=c.pk, user=sme2)
    reviewed, skipped = reviews_mark_invalid(interaction_ids=[a.pk, b.pk, c.pk], user=sme)
    assert (reviewed, skipped) == (2, 1)
    reviews = Review.objects.filter(verdict="invalid")
    assert {r.interaction_id for r in reviews} == {a.pk, b.pk}
    assert all(r.reviewer == sme for r in reviews)
    assert Review.history.filter(history_user=sme, history_type="+").count() == 2
    assert set(Interaction.objects.filter(review_status=Status.REVIEWED).values_list("pk", flat=True)) == {a.pk, b.pk}


def test_set_category_updates_current_verdicts_with_history(review_project, sme):
    a, b = make_failures(review_project, 2)
    review = review_create(interaction=a, verdict="invalid", reviewer=sme)
    tone = ErrorCategory.objects.create(project=review_project, name="tone")
    assert reviews_set_category(interaction_ids=[a.pk, b.pk], category=tone, user=sme) == (1, 1)
    review.refresh_from_db()
    assert review.error_category == tone
    assert review.history.first().history_user == sme


def test_json_outputs_take_json_corrections(review_project):
    item = InteractionFactory(project=review_project, output={"answer": "30 days"})
    assert correction_parse(interaction=item, text='{"answer": "14 days"}') == {"answer": "14 days"}
    with pytest.raises(ApplicationError):
        correction_parse(interaction=item, text="14 days")
