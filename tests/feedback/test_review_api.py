"""POST /api/v1/interactions/{id}/reviews: the review rules of the admin, through the API."""

import pytest

from feedback.models import ErrorCategory, Interaction, Review
from tests.factories import FailureFactory, ProjectFactory


@pytest.fixture
def item(project):
    return FailureFactory(project=project, external_id="chat-8812", output="Refunds take 30 days.")


def _post(client, external_id, body):
    return client.post(f"/api/v1/interactions/{external_id}/reviews", body, format="json")


def test_corrected_with_correction_is_stored(item, project, make_client):
    ErrorCategory.objects.create(project=project, name="wrong_policy")
    client = make_client(project, ["review"])
    body = {
        "verdict": "corrected",
        "correction": "Refunds take 14 days.",
        "error_category": "wrong_policy",
        "notes": "policy changed",
        "reviewer": "sme-jane",
    }
    response = _post(client, "chat-8812", body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["verdict"] == "corrected" and data["correction"] == "Refunds take 14 days."
    assert data["error_category"] == "wrong_policy" and data["reviewer"] == "sme-jane"
    assert data["interaction_id"] == "chat-8812"
    review = Review.objects.get()
    assert review.reviewer is None and review.reviewer_name == "sme-jane"
    item.refresh_from_db()
    assert item.review_status == Interaction.ReviewStatus.REVIEWED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"verdict": "corrected"}, "correction"),
        ({"verdict": "corrected", "correction": "Refunds take 30 days."}, "correction"),
        ({"verdict": "correct", "correction": "x"}, "correction"),
        ({"verdict": "great"}, "verdict"),
        ({"verdict": "invalid", "error_category": "not a slug!"}, "error_category"),
    ],
)
def test_invalid_reviews_are_400_with_the_field(item, api, body, field):
    response = _post(api, "chat-8812", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Review.objects.exists()


def test_correct_and_invalid_need_no_correction(item, api):
    assert _post(api, "chat-8812", {"verdict": "correct"}).status_code == 201
    response = _post(api, "chat-8812", {"verdict": "invalid", "notes": "garbage input"})
    assert response.status_code == 201 and response.json()["error_category"] is None


def test_unknown_category_is_created_only_with_curate(item, project, make_client):
    body = {"verdict": "invalid", "error_category": "hallucination"}
    refused = _post(make_client(project, ["review"]), "chat-8812", body)
    assert refused.status_code == 400 and "error_category" in refused.json()["error"]["fields"]
    assert not ErrorCategory.objects.exists()

    created = _post(make_client(project, ["review", "curate"]), "chat-8812", body)
    assert created.status_code == 201
    assert ErrorCategory.objects.get().name == "hallucination"


def test_a_failed_review_does_not_leave_a_created_category(item, project, make_client):
    response = _post(
        make_client(project, ["review", "curate"]), "chat-8812", {"verdict": "corrected", "error_category": "x"}
    )
    assert response.status_code == 400
    assert not ErrorCategory.objects.exists()


def test_review_scope_is_required(item, project, make_client):
    response = _post(make_client(project, ["ingest", "read", "curate"]), "chat-8812", {"verdict": "correct"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_other_projects_interaction_is_404(item, make_client):
    stranger = make_client(ProjectFactory(slug="other-bot"))
    response = _post(stranger, "chat-8812", {"verdict": "correct"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert _post(stranger, "nope", {"verdict": "correct"}).status_code == 404


def test_no_key_is_401(item, client):
    assert client.post("/api/v1/interactions/chat-8812/reviews", {}, content_type="application/json").status_code == 401


def test_list_reviews_with_read_scope(item, project, api, make_client):
    _post(api, "chat-8812", {"verdict": "correct", "reviewer": "a"})
    response = make_client(project, ["read"]).get("/api/v1/interactions/chat-8812/reviews")
    assert response.status_code == 200
    assert [r["verdict"] for r in response.json()["results"]] == ["correct"]
