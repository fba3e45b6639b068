"""Back into the loop: each regressed example of a finished run becomes an interaction of the project with
`automated` negative feedback named `regression:<scorer>`, through feedback's capture service (the same
validation, the same failure rule, the same embedding and clustering path as any captured failure).

Ids are derived from run, example and scorer, so feeding a run twice writes nothing new. The feedback carries the
expected output as its correction: that is what makes it negative under the failure rule, and it is the answer an
SME reviewing the item should see.
"""

from evaluation.models import Run
from evaluation.selectors.scoring import regressed_pairs
from feedback.services.capture import capture_ingest

BATCH = 500


def regression_interaction_id(*, run_id: int, example_id: str) -> str:
    return f"eval:{run_id}:{example_id}"


def regressions_feed(*, run: Run) -> int:
    """Capture every regression of the run; returns how many feedback items were new."""
    interactions: dict[str, dict] = {}
    feedback: list[dict] = []
    for stable_id, scorer, input_, expected, output, present in regressed_pairs(run=run):
        interaction_id = regression_interaction_id(run_id=run.pk, example_id=stable_id)
        interactions.setdefault(
            interaction_id,
            {
                "id": interaction_id,
                "input": input_,
                "output": output if present else "",
                "model": run.model,
                "prompt_version": run.prompt_version,
                "metadata": {
                    "evaluation_run": run.pk,
                    "baseline_run": run.baseline_id,
                    "dataset": run.dataset.name,
                    "version": run.version_number,
                    "example_id": stable_id,
                    "missing_output": not present,
                },
            },
        )
        feedback.append(
            {
                "id": f"{interaction_id}:regression:{scorer}",
                "interaction_id": interaction_id,
                "name": f"regression:{scorer}",
                "value": False,
                "correction": expected,
                "comment": f"Passed '{scorer}' in baseline run {run.baseline_id}, fails it in run {run.pk}.",
                "source": "automated",
                "author": f"evaluation-run-{run.pk}",
                "metadata": {"evaluation_run": run.pk, "example_id": stable_id, "scorer": scorer},
            }
        )
    items = list(interactions.values())
    for start in range(0, len(items), BATCH):
        capture_ingest(project_id=run.project_id, interactions=items[start : start + BATCH], feedback=[])
    created = 0
    for start in range(0, len(feedback), BATCH):
        result = capture_ingest(project_id=run.project_id, interactions=[], feedback=feedback[start : start + BATCH])
        created += sum(1 for item in result.feedback if item.status == 201)
    return created
