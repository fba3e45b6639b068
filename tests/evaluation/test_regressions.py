"""Regressed examples go back into the loop: failures in the review queue, through capture."""

import pytest

from evaluation.models import Run
from evaluation.services.regressions import regressions_feed
from feedback.models import Feedback, ReviewItem
from feedback.selectors.reviews import QUEUE_ORDERING, filter_feedback_kind, filter_review_status, review_queue
from tests.evaluation.helpers import golden, outputs
from tests.evaluation.test_runs_api import create, finish

pytestmark = pytest.mark.django_db


def baseline_and_candidate(api, *, wrong: set[int], feed: bool = True) -> str:
    golden(_project(), 10)
    base_id = create(api, {"scorers": [{"kind": "exact"}, {"kind": "contains"}]}).json()["id"]
    api.post(f"/api/v1/runs/{base_id}/outputs", {"outputs": outputs(10)}, format="json")
    finish(api, base_id)
    body = {"baseline": base_id, "feed_regressions": feed, "model": "gpt-x", "prompt_version": "v5",
            "scorers": [{"kind": "exact"}, {"kind": "contains"}]}  # fmt: skip
    run_id = create(api, body).json()["id"]
    api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": outputs(10, wrong=wrong, missing={9})}, format="json")
    finish(api, run_id)
    return run_id


def _project():
    from feedback.models import Project

    return Project.objects.get(slug="support-bot")


def test_regressed_examples_appear_in_the_review_queue(api, project):
    run_id = baseline_and_candidate(api, wrong={2, 5})
    queue = filter_review_status(review_queue(base=ReviewItem.objects.filter(project=project)), "unreviewed")
    failures = list(queue.filter(is_failure=True).order_by(*QUEUE_ORDERING))
    assert sorted(i.external_id for i in failures) == [f"eval:{run_id}:ex-{i}" for i in (2, 5, 9)]
    item = next(i for i in failures if i.external_id.endswith("ex-2"))
    assert (item.output, item.model, item.prompt_version) == ("wrong 2", "gpt-x", "v5")
    assert item.metadata["evaluation_run"] == int(run_id) and item.negative_count == 2
    feedback = Feedback.objects.filter(interaction=item).order_by("name")
    assert [(f.name, f.source, f.is_negative, f.correction) for f in feedback] == [
        ("regression:contains", "automated", True, "answer 2"),
        ("regression:exact", "automated", True, "answer 2"),
    ]
    assert filter_feedback_kind(queue, "regression:exact:BOOLEAN").count() == 3
    # Feeding the same run again writes nothing new.
    assert regressions_feed(run=Run.objects.get(pk=run_id)) == 0
    assert Feedback.objects.filter(source="automated").count() == 6


def test_feed_regressions_false_keeps_the_queue_clean(api, project):
    baseline_and_candidate(api, wrong={2}, feed=False)
    assert not ReviewItem.objects.filter(project=project).exists()
