import sys

from django.contrib.auth import get_user_model

from demo import reviews
from feedback.models import ErrorCategory, Interaction, Review
from tests.factories import FailureFactory, ProjectFactory


def test_demo_reviews_are_idempotent_and_log_in_ready(db, capsys):
    project = ProjectFactory(slug="support-bot")
    for quality in ("good", "generic", "wrong") * 7:
        FailureFactory(project=project, metadata={"intent": "card_arrival", "demo_quality": quality})
    reviews.load(project=project, stdout=sys.stdout)
    reviews.load(project=project, stdout=sys.stdout)

    users = get_user_model().objects.in_bulk(["sme", "mlengineer"], field_name="username")
    assert users["sme"].groups.get().name == "SME" and users["mlengineer"].groups.get().name == "ML engineer"
    assert users["sme"].is_staff and users["sme"].check_password("goldloop-sme")
    assert "password: goldloop-sme" in capsys.readouterr().out
    assert set(ErrorCategory.objects.values_list("name", flat=True)) >= {"wrong_policy", "hallucination", "tone"}
    assert Review.objects.count() == 21  # every failure once, not twice
    assert set(Review.objects.values_list("verdict", flat=True)) == {"correct", "corrected", "invalid"}
    assert all(r.correction for r in Review.objects.filter(verdict="corrected"))
    assert Interaction.objects.filter(review_status="reviewed").count() == 21
