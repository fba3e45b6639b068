"""The demo's regression runs: on the golden set `support-answers` (demo/golden.py), a baseline run tagged `prod`
that passes its gate, and a candidate that regresses on a few examples and fails its gates, its regressions sent
back to the review queue. Scored in this process (no worker needed), through the same services as the API.
"""

from evaluation.models import Run
from evaluation.services.outputs import outputs_add
from evaluation.services.runs import baseline_tag_set, run_create
from evaluation.services.scoring import run_score_inline
from examples_lib.models import Dataset
from examples_lib.selectors.versions import version_resolve
from feedback.models import Project

DEMO_DATASET = "support-answers"
BASELINE_NAME = "demo: refunds-v3 (production)"
CANDIDATE_NAME = "demo: refunds-v4 candidate"
SCORERS = [{"kind": "exact", "ignore_case": True, "strip_punctuation": True}, {"kind": "semantic", "threshold": 0.8}]
WRONG = "I'm sorry, I can't help with that. Please contact support."


def _run(dataset: Dataset, *, name: str, prompt_version: str, outputs: list[dict], **options) -> Run:
    run = run_create(dataset=dataset, ref="prod", name=name, model="gpt-4o-mini", prompt_version=prompt_version,
                     scorers=SCORERS, created_by_name="demo", **options)  # fmt: skip
    for start in range(0, len(outputs), 1000):
        outputs_add(run=run, items=outputs[start : start + 1000])
    return run_score_inline(run_id=run.pk)


def load(*, project: Project, stdout) -> None:
    """Idempotent: does nothing when the demo runs exist, or when there is no golden version to run against."""
    dataset = Dataset.objects.filter(project=project, name=DEMO_DATASET).first()
    if dataset is None or not dataset.versions.exists():
        return
    if Run.objects.filter(dataset=dataset, name=CANDIDATE_NAME).exists():
        return
    version = version_resolve(dataset=dataset, ref="prod")
    examples = list(version.examples.order_by("ordinal").values_list("stable_id", "expected_output"))
    exact = [{"example_id": stable_id, "output": expected, "latency_ms": 700} for stable_id, expected in examples]
    baseline = _run(dataset, name=BASELINE_NAME, prompt_version="refunds-v3", outputs=exact,
                    gates=[{"scorer": "semantic", "min_pass_rate": 0.9}])  # fmt: skip
    baseline_tag_set(dataset=dataset, tag="prod", run=baseline)
    # The candidate answers a few questions (every seventh, at least three) with a canned refusal.
    broken = {stable_id for stable_id, _ in examples[:: max(1, min(7, len(examples) // 3))][:8]}
    candidate_outputs = [{**item, "output": WRONG} if item["example_id"] in broken else item for item in exact]
    candidate = _run(
        dataset,
        name=CANDIDATE_NAME,
        prompt_version="refunds-v4",
        outputs=candidate_outputs,
        baseline="prod",
        gates=[{"scorer": "semantic", "max_drop": 0.02}, {"max_regressions": 2}],
    )
    stdout.write(
        f"demo: evaluation runs on '{DEMO_DATASET}' v{version.number}: baseline run {baseline.pk} "
        f"({baseline.verdict['result']}, tagged prod), candidate run {candidate.pk} ({candidate.verdict['result']}: "
        f"{len(broken)} regressed examples sent to the review queue)\n"
    )
