"""The agreement report on real rows: SMEs against each other and the adjudicated answer, and a judge's alignment
with the SMEs, against figures computed by hand."""

import pytest

from feedback.models import ErrorCategory, ScoreThreshold
from feedback.selectors.agreement import agreement_report
from feedback.services.adjudication import adjudication_create
from feedback.services.reviews import review_create
from tests.factories import FeedbackFactory, InteractionFactory
from tests.feedback.agreement_fixtures import adjudicator_fixture, overlap_policy  # noqa: F401 - fixtures
from tests.feedback.review_fixtures import make_user, review_project_fixture  # noqa: F401 - fixtures


@pytest.fixture
def reviewed(review_project, adjudicator):
    """Six items judged by two SMEs: four agreements, two disagreements (item 5 adjudicated 'correct')."""
    overlap_policy(review_project)
    a, b = make_user("sme-a", "SME"), make_user("sme-b", "SME")
    wrong = ErrorCategory.objects.create(project=review_project, name="wrong_policy")
    items = [InteractionFactory(project=review_project, external_id=f"item-{i}") for i in range(1, 7)]
    plan = [("correct", "correct"), ("correct", "correct"), ("corrected", "corrected"), ("corrected", "corrected"),
            ("correct", "corrected"), ("corrected", "correct")]  # fmt: skip
    for item, verdicts in zip(items, plan, strict=True):
        for user, verdict in zip((a, b), verdicts, strict=True):
            extra = {"correction": "Fixed.", "error_category": wrong} if verdict == "corrected" else {}
            review_create(interaction=item, verdict=verdict, reviewer=user, **extra)
    adjudication_create(interaction=items[4], verdict="correct", adjudicator=adjudicator)
    return items


def _judge(items, name, data_type, values):
    for item, value in zip(items, values, strict=True):
        FeedbackFactory(interaction=item, name=name, data_type=data_type, value_number=value, source="automated")


def test_reviewers_against_each_other_and_the_adjudicated_answer(review_project, reviewed):
    report = agreement_report(project=review_project)
    assert report["n_items"] == 6 and report["n_reviewers"] == 2 and report["n_adjudicated"] == 1
    assert report["percent_agreement"] == pytest.approx(4 / 6, abs=1e-4)
    assert report["cohen_kappa"] == pytest.approx(1 / 3, abs=1e-4)  # p_o 4/6, p_e 1/2
    assert report["n"]["cohen_kappa"] == 6
    rows = {row["reviewer"]: row for row in report["by_reviewer"]}
    assert rows["sme-a"]["vs_others"]["percent_agreement"] == pytest.approx(4 / 6, abs=1e-4)
    assert rows["sme-a"]["vs_adjudicated"]["percent_agreement"] == 1.0
    assert rows["sme-b"]["vs_adjudicated"]["percent_agreement"] == 0.0
    assert rows["sme-b"]["vs_adjudicated"]["n"]["percent_agreement"] == 1
    (category,) = report["by_category"]
    assert category["error_category"] == "wrong_policy" and category["n_items"] == 4
    worst = [row["interaction_id"] for row in report["disagreements"]]
    assert sorted(worst) == ["item-5", "item-6"]
    assert {row["interaction_id"]: row["adjudicated"] for row in report["disagreements"]}["item-5"] == "correct"


def test_judge_alignment_matches_a_hand_computed_case(review_project, reviewed):
    # Settled SME labels: items 1, 2, 5 pass (5 by adjudication), 3, 4 fail; 6 is unsettled and left out.
    ScoreThreshold.objects.create(project=review_project, name="faithful", threshold=0.7)
    _judge(reviewed, "faithful", "NUMERIC", [0.9, 0.3, 0.2, 0.8, 0.95, 0.1])
    _judge(reviewed, "helpful", "BOOLEAN", [1, 1, 1, 1, 1, 1])
    FeedbackFactory(interaction=reviewed[0], name="thumbs", value_number=0, source="end_user")
    judges = {j["name"]: j for j in agreement_report(project=review_project)["judges"]}
    assert set(judges) == {"faithful", "helpful"}  # automated sources only by default

    faithful = judges["faithful"]
    assert faithful["n_items"] == 5
    assert faithful["confusion"] == {
        "sme_pass": {"judge_pass": 2, "judge_fail": 1},
        "sme_fail": {"judge_pass": 1, "judge_fail": 1},
    }
    assert faithful["agreement_with_sme"] == pytest.approx(0.6)
    # p_o = 3/5; p_e = (3*3 + 2*2) / 25 = 0.52; kappa = 0.08 / 0.48
    assert faithful["kappa"] == pytest.approx(0.08 / 0.48, abs=1e-4)
    by_category = {row["error_category"]: row for row in faithful["by_category"]}
    assert by_category["wrong_policy"] == {"error_category": "wrong_policy", "n": 2, "agreement": 0.5}
    assert by_category["(passed)"]["agreement"] == pytest.approx(2 / 3, abs=1e-4)

    helpful = judges["helpful"]
    assert helpful["agreement_with_sme"] == pytest.approx(0.6) and helpful["kappa"] == 0.0
    assert helpful["confusion"]["sme_fail"] == {"judge_pass": 2, "judge_fail": 0}


def test_filters_narrow_the_items(review_project, reviewed):
    assert agreement_report(project=review_project, error_category="wrong_policy")["n_items"] == 4
    assert agreement_report(project=review_project, reviewer="nobody")["n_items"] == 0
    only_end_users = agreement_report(project=review_project, sources=["end_user"])
    assert only_end_users["judges"] == []


def test_sme_scores_give_krippendorffs_interval_alpha(review_project):
    # Krippendorff (2011), example C, as numeric scores of four SMEs on twelve items: interval alpha 0.849.
    from tests.feedback.test_agreement_stats import KRIPPENDORFF_C

    items = [InteractionFactory(project=review_project) for _ in range(12)]
    for author, row in zip("ABCD", KRIPPENDORFF_C, strict=True):
        for item, value in zip(items, row, strict=True):
            if value == value:  # not NaN
                FeedbackFactory(interaction=item, name="helpfulness", data_type="NUMERIC", value_number=value,
                                source="sme", author=f"sme-{author}")  # fmt: skip
    (scores,) = agreement_report(project=review_project)["scores"]
    assert scores["name"] == "helpfulness" and scores["n_raters"] == 4 and scores["n_items"] == 11
    assert scores["krippendorff_alpha"] == pytest.approx(0.849, abs=5e-4)
    assert scores["n"]["krippendorff_alpha"] == 40


def test_items_still_collecting_verdicts_are_not_listed_as_disagreements(review_project):
    overlap_policy(review_project, reviewers=3)
    a, b = make_user("sme-a", "SME"), make_user("sme-b", "SME")
    item = InteractionFactory(project=review_project)
    review_create(interaction=item, verdict="correct", reviewer=a)
    review_create(interaction=item, verdict="invalid", reviewer=b)
    report = agreement_report(project=review_project)
    assert report["n_items"] == 1 and report["disagreements"] == []
