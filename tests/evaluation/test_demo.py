import io

import pytest

from demo import evaluation as demo_evaluation
from evaluation.models import BaselineTag, Run
from feedback.models import Interaction
from tests.evaluation.helpers import golden

pytestmark = pytest.mark.django_db


def test_the_demo_runs_a_passing_baseline_and_a_failing_candidate(project):
    golden(project, 21, tag="prod")
    out = io.StringIO()
    demo_evaluation.load(project=project, stdout=out)
    baseline = Run.objects.get(name=demo_evaluation.BASELINE_NAME)
    candidate = Run.objects.get(name=demo_evaluation.CANDIDATE_NAME)
    assert baseline.verdict["result"] == "pass" and BaselineTag.objects.get(tag="prod").run == baseline
    assert candidate.verdict["result"] == "fail" and candidate.baseline == baseline
    assert candidate.summary["regressions"] == 3
    assert Interaction.objects.filter(project=project, is_failure=True, external_id__startswith="eval:").count() == 3
    assert "candidate run" in out.getvalue()
    demo_evaluation.load(project=project, stdout=out)  # a second load changes nothing
    assert Run.objects.count() == 2


def test_the_demo_waits_for_a_golden_version(project):
    demo_evaluation.load(project=project, stdout=io.StringIO())
    assert not Run.objects.exists()
