"""Adjudication: a disagreement on an overlap item reaches the adjudication queue, and only the adjudicated verdict
is promoted; an overlap item is not promoted before its SMEs agree or an adjudicator settles it."""

import pytest

from core.errors import ApplicationError
from examples_lib.models import Dataset, Example
from examples_lib.services.examples import examples_promote
from feedback.selectors.adjudication import disputed_items
from feedback.services.adjudication import adjudication_create
from feedback.services.reviews import review_create
from tests.factories import InteractionFactory
from tests.feedback.agreement_fixtures import adjudicator_fixture, overlap_policy  # noqa: F401 - fixtures
from tests.feedback.review_fixtures import (  # noqa: F401 - fixtures
    review_project_fixture,
    sme2_fixture,
    sme_fixture,
)


@pytest.fixture(autouse=True)
def no_embedder(settings):
    settings.EXAMPLES_EMBEDDER = ""


@pytest.fixture
def dataset(review_project):
    return Dataset.objects.create(project=review_project, name="refunds")


def test_a_disagreement_is_adjudicated_and_only_the_adjudicated_verdict_is_promoted(
    review_project, sme, sme2, adjudicator, dataset
):
    overlap_policy(review_project)
    item = InteractionFactory(project=review_project, output="Refunds take 30 days.")
    review_create(interaction=item, verdict="correct", reviewer=sme)

    pending = examples_promote(dataset=dataset, interactions=item.__class__.objects.filter(pk=item.pk))
    assert [r["code"] for r in pending.refused] == ["pending"]  # one verdict of two
    assert item not in disputed_items()

    review_create(interaction=item, verdict="corrected", correction="Refunds take 14 days.", reviewer=sme2)
    assert list(disputed_items()) == [item]
    refused = examples_promote(dataset=dataset, external_ids=[item.external_id])
    assert refused.refused[0]["code"] == "disputed" and "adjudicator" in refused.refused[0]["reason"]
    assert not Example.objects.exists()

    with pytest.raises(ApplicationError):
        adjudication_create(interaction=item, verdict="correct", adjudicator=sme)  # an SME may not adjudicate
    adjudication_create(
        interaction=item, verdict="corrected", correction="Refunds take 14 days, by card.", adjudicator=adjudicator
    )
    assert list(disputed_items()) == []
    result = examples_promote(dataset=dataset, external_ids=[item.external_id])
    assert len(result.added) == 1
    example = Example.objects.get()
    assert example.expected_output == "Refunds take 14 days, by card."  # neither SME's: the adjudicated one
    assert example.lineage["reviewer"] == adjudicator.username


def test_agreeing_smes_promote_without_adjudication(review_project, sme, sme2, dataset):
    overlap_policy(review_project)
    item = InteractionFactory(project=review_project)
    review_create(interaction=item, verdict="corrected", correction="Same fix.", reviewer=sme)
    review_create(interaction=item, verdict="corrected", correction="Same fix.", reviewer=sme2)
    assert list(disputed_items()) == []
    assert len(examples_promote(dataset=dataset, external_ids=[item.external_id]).added) == 1


def test_different_corrections_are_a_disagreement(review_project, sme, sme2):
    overlap_policy(review_project)
    item = InteractionFactory(project=review_project)
    review_create(interaction=item, verdict="corrected", correction="One fix.", reviewer=sme)
    review_create(interaction=item, verdict="corrected", correction="Another fix.", reviewer=sme2)
    assert list(disputed_items()) == [item]


def test_an_adjudication_is_not_an_sme_verdict_and_a_later_one_replaces_it(review_project, sme, sme2, adjudicator):
    overlap_policy(review_project)
    item = InteractionFactory(project=review_project)
    review_create(interaction=item, verdict="correct", reviewer=sme)
    review_create(interaction=item, verdict="invalid", reviewer=sme2)
    first = adjudication_create(interaction=item, verdict="invalid", adjudicator=adjudicator)
    second = adjudication_create(interaction=item, verdict="correct", adjudicator=adjudicator)
    first.refresh_from_db()
    assert first.superseded_at is not None and second.superseded_at is None
    review_create(interaction=item, verdict="correct", reviewer=adjudicator)  # as an SME: a separate verdict
    second.refresh_from_db()
    assert second.superseded_at is None
