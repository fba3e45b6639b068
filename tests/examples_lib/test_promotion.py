import pytest

from examples_lib.models import Example
from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_add, examples_promote
from examples_lib.services.versions import version_create
from feedback.models import Cluster, Interaction, Review
from feedback.selectors.promotion import promotion_candidates
from tests.factories import InteractionFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(project):
    return dataset_create(project=project, name="refund-answers")


def test_corrected_uses_the_correction_and_correct_keeps_the_output(dataset, reviewed):
    wrong = reviewed("corrected", correction="Refunds take 14 days.", output="Refunds take 30 days.")
    right = reviewed("correct", output="Our store opens at 9.")
    result = examples_promote(dataset=dataset, external_ids=[wrong.external_id, right.external_id])
    assert [item["interaction_id"] for item in result.added] == [wrong.external_id, right.external_id]
    expected = dict(Example.objects.values_list("source_interaction__external_id", "expected_output"))
    assert expected == {wrong.external_id: "Refunds take 14 days.", right.external_id: "Our store opens at 9."}


def test_the_latest_review_decides(dataset, reviewed):
    interaction = reviewed("invalid")
    Review.objects.create(
        project=interaction.project,
        interaction=interaction,
        verdict="corrected",
        correction="Fixed.",
        reviewer_name="b",
    )
    result = examples_promote(dataset=dataset, external_ids=[interaction.external_id])
    assert len(result.added) == 1
    assert Example.objects.get().expected_output == "Fixed."


def test_unreviewed_invalid_and_unknown_are_refused_with_reasons(dataset, reviewed):
    unreviewed = reviewed(None)
    invalid = reviewed("invalid")
    ok = reviewed("correct")
    result = examples_promote(
        dataset=dataset, external_ids=[unreviewed.external_id, invalid.external_id, "nope", ok.external_id]
    )
    refused = {item["interaction_id"]: item["code"] for item in result.refused}
    assert refused == {unreviewed.external_id: "unreviewed", invalid.external_id: "invalid", "nope": "not_found"}
    assert all(item["reason"] for item in result.refused)
    assert [item["interaction_id"] for item in result.added] == [ok.external_id]
    assert Example.objects.count() == 1


def test_another_projects_interaction_is_not_found(dataset, reviewed):
    other = InteractionFactory(project=ProjectFactory(slug="other-app"))
    Review.objects.create(project=other.project, interaction=other, verdict="correct", reviewer_name="x")
    result = examples_promote(dataset=dataset, external_ids=[other.external_id])
    assert [item["code"] for item in result.refused] == ["not_found"]


def test_lineage_snapshot_survives_the_deletion_of_its_sources(dataset, reviewed):
    cluster = Cluster.objects.create(project=dataset.project, label="refund window")
    interaction = reviewed(
        "corrected",
        correction="Refunds take 14 days.",
        output="Refunds take 30 days.",
        cluster=cluster,
        model="gpt-4o-mini",
        prompt_version="refunds-v3",
    )
    review = interaction.reviews.get()
    feedback_id = interaction.feedback.get().external_id
    examples_promote(dataset=dataset, external_ids=[interaction.external_id])
    version = version_create(dataset=dataset)
    pk, external_id = interaction.pk, interaction.external_id

    Interaction.objects.filter(pk=pk).delete()  # cascades to its feedback and reviews
    cluster.delete()

    example = Example.objects.get()
    assert example.source_interaction_id is None
    frozen = version.examples.get()
    for lineage in (example.lineage, frozen.lineage):
        assert lineage == {
            "source": "interaction",
            "interaction_id": external_id,
            "interaction_pk": pk,
            "feedback_ids": [feedback_id],
            "review_id": review.pk,
            "reviewer": "sme-jane",
            "verdict": "corrected",
            "error_category": "wrong_policy",
            "reviewed_at": review.created_at.isoformat(),
            "cluster": "refund window",
            "model": "gpt-4o-mini",
            "prompt_version": "refunds-v3",
            "original_output": "Refunds take 30 days.",
        }


def test_reviewer_is_the_user_when_reviewed_in_the_admin(dataset, project, django_user_model):
    user = django_user_model.objects.create_user("jane")
    interaction = InteractionFactory(project=project)
    Review.objects.create(project=project, interaction=interaction, verdict="correct", reviewer=user)
    examples_promote(dataset=dataset, external_ids=[interaction.external_id])
    assert Example.objects.get().lineage["reviewer"] == "jane"


def test_exact_duplicates_are_refused_after_normalisation(dataset):
    first = examples_add(dataset=dataset, examples=[{"input": {"q": "Refund  window?"}, "expected_output": "14 days"}])
    again = examples_add(
        dataset=dataset,
        examples=[
            {"input": {"q": "refund window?"}, "expected_output": " 14\nDAYS "},
            {"input": "new", "expected_output": "x"},
            {"input": "new", "expected_output": "X"},
        ],
    )
    assert [d["index"] for d in again.duplicates] == [0, 2]
    assert again.duplicates[0]["duplicate_of"] == first.added[0]["id"]
    assert [a["index"] for a in again.added] == [1]
    assert Example.objects.count() == 2


def test_promoting_again_is_a_duplicate_and_a_new_correction_updates_in_place(dataset, reviewed):
    interaction = reviewed("corrected", correction="Refunds take 14 days.")
    first = examples_promote(dataset=dataset, external_ids=[interaction.external_id])
    again = examples_promote(dataset=dataset, external_ids=[interaction.external_id])
    assert again.duplicates and not again.added
    Review.objects.create(
        project=dataset.project, interaction=interaction, verdict="corrected", correction="Refunds take 10 days."
    )
    third = examples_promote(dataset=dataset, external_ids=[interaction.external_id])
    assert third.updated == [{**first.added[0]}]
    example = Example.objects.get()
    assert (example.stable_id, example.split) == (first.added[0]["id"], first.added[0]["split"])
    assert example.expected_output == "Refunds take 10 days."


def test_near_duplicates_are_reported_and_still_added(dataset):
    examples_add(
        dataset=dataset, examples=[{"input": "how long do refunds take for shoes", "expected_output": "14 days"}]
    )
    result = examples_add(
        dataset=dataset,
        examples=[
            {"input": "how long do refunds take for shoes?!", "expected_output": "14 days"},
            {"input": "what are your opening hours", "expected_output": "9 to 5"},
        ],
    )
    assert len(result.added) == 2
    assert [item["id"] for item in result.near_duplicates] == [result.added[0]["id"]]
    assert result.near_duplicates[0]["similarity"] >= dataset.near_duplicate_threshold


def test_near_duplicate_detection_is_skipped_without_an_embedder(dataset, settings):
    settings.EXAMPLES_EMBEDDER = "core.no_such_module.embed_texts"
    examples_add(dataset=dataset, examples=[{"input": "refunds for shoes", "expected_output": "14"}])
    result = examples_add(dataset=dataset, examples=[{"input": "refunds for shoes?", "expected_output": "14"}])
    assert result.duplicates == [] and len(result.added) == 1 and result.near_duplicates == []


def test_promotion_selector_reads_in_constant_queries(project, reviewed, django_assert_num_queries):
    ids = [reviewed("corrected", correction=f"c{i}").external_id for i in range(8)]
    with django_assert_num_queries(4):  # interactions+cluster, reviews (+reviewer, category), feedback, overlap policy
        candidates = promotion_candidates(project=project, external_ids=ids)
    assert [c["external_id"] for c in candidates] == ids
    assert all(c["review"]["verdict"] == "corrected" and c["feedback_ids"] for c in candidates)
