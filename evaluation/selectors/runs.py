from django.db.models import QuerySet

from core.errors import ApplicationError
from evaluation.models import BaselineTag, Run
from examples_lib.models import Dataset
from feedback.models import Project


def run_list(*, dataset: Dataset) -> QuerySet[Run]:
    return (
        Run.objects.filter(dataset=dataset)
        .select_related("dataset", "baseline")
        .defer("chunk_starts", "chunks_done", "judge_secret")
    )


def run_get(*, project: Project, run_id) -> Run:
    """A run of the project; another project's run does not exist (404)."""
    run = None
    if str(run_id).isdigit():
        run = Run.objects.select_related("dataset", "project", "baseline").filter(project=project, pk=run_id).first()
    if run is None:
        raise ApplicationError(f"No run '{run_id}' in this project.", code="not_found", status_code=404)
    return run


def baseline_resolve(*, dataset: Dataset, ref: str) -> Run:
    """A run by id (of this dataset) or by baseline tag, e.g. `prod`."""
    ref = str(ref)
    if ref.isdigit():
        run = Run.objects.filter(dataset=dataset, pk=int(ref)).first()
    else:
        tag = BaselineTag.objects.select_related("run").filter(dataset=dataset, tag=ref).first()
        run = tag.run if tag else None
    if run is None:
        raise ApplicationError(
            f"Dataset '{dataset.name}' has no run '{ref}' and no baseline tagged '{ref}'.",
            code="baseline_not_found",
            status_code=404,
            fields={"baseline": ["not found"]},
        )
    return run


def baseline_tags_of(*, runs: list[Run]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    for run_id, tag in BaselineTag.objects.filter(run__in=runs).order_by("tag").values_list("run_id", "tag"):
        tags.setdefault(run_id, []).append(tag)
    return tags


def pass_rate_series(*, dataset_id: int, limit: int = 30) -> list[dict]:
    """The pass rate of each scorer across the dataset's latest finished runs, oldest first (one query)."""
    runs = (
        Run.objects.filter(dataset_id=dataset_id, status=Run.Status.SUCCEEDED)
        .order_by("-created_at", "-id")
        .only("id", "name", "version_number", "summary", "verdict", "created_at")[:limit]
    )
    return [
        {
            "id": run.pk,
            "label": run.name or f"run {run.pk}",
            "version": run.version_number,
            "verdict": (run.verdict or {}).get("result"),
            "rates": {
                name: stats.get("pass_rate")
                for name, stats in (run.summary or {}).get("scorers", {}).items()
                if stats.get("pass_rate") is not None
            },
        }
        for run in reversed(list(runs))
    ]
