import io

from demo import agreement, reviews
from feedback.models import Feedback, Review, ReviewPolicy
from feedback.selectors.agreement import agreement_report
from tests.factories import FailureFactory, ProjectFactory


def test_demo_agreement_fills_the_agreement_page_and_is_idempotent(db):
    project = ProjectFactory(slug="support-bot")
    for quality in ("good", "generic", "wrong") * 20:
        FailureFactory(project=project, metadata={"intent": "card_arrival", "demo_quality": quality})
    reviews.load(project=project, stdout=io.StringIO())
    out = io.StringIO()
    agreement.load(project=project, stdout=out)
    counts = (Review.objects.count(), Feedback.objects.filter(source="automated").count())
    agreement.load(project=project, stdout=io.StringIO())
    assert (Review.objects.count(), Feedback.objects.filter(source="automated").count()) == counts

    assert ReviewPolicy.objects.get(project=project).reviewers_per_item == 2
    assert Review.objects.filter(reviewer__username="sme2").count() == agreement.DOUBLE_REVIEWED
    assert Review.objects.filter(is_adjudication=True, reviewer__username="adjudicator").count() == 1
    report = agreement_report(project=project)
    assert report["n_items"] == agreement.DOUBLE_REVIEWED and report["n_reviewers"] == 2
    assert 0.5 < report["percent_agreement"] < 1  # mostly agreeing, a few disagreements
    assert report["disagreements"] and report["n_adjudicated"] == 1
    assert {judge["name"] for judge in report["judges"]} == {"faithfulness", "llm_correct"}
    assert len(report["trend"]) > 1
    assert "password: goldloop-sme2" in out.getvalue()
