"""Runs: creation (the version pinned as number + sha256), completion (scoring split into chunk tasks), baselines."""

import secrets
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.errors import ApplicationError
from evaluation.gates import gates_validate
from evaluation.models import BaselineTag, Run, RunOutput
from evaluation.scorers import ScorerConfigError, scorer_build
from evaluation.selectors.runs import baseline_resolve
from examples_lib.canonical import SPLITS
from examples_lib.models import Dataset, VersionExample
from examples_lib.selectors.versions import version_resolve

DEFAULT_SCORERS = [{"kind": "exact"}]


def chunk_size() -> int:
    return getattr(settings, "EVALUATION_CHUNK_SIZE", 1000)


def _clean_scorers(configs: Any) -> tuple[list[dict], dict]:
    if configs is None:
        configs = DEFAULT_SCORERS
    if not isinstance(configs, list) or not configs:
        return [], {"scorers": ['Give a non-empty list, e.g. [{"kind": "exact"}].']}
    clean, errors, names = [], {}, set()
    for position, config in enumerate(configs):
        try:
            scorer = scorer_build(config)
        except ScorerConfigError as exc:
            errors[f"scorers[{position}]"] = [str(exc)]
            continue
        if scorer.name in names:
            errors[f"scorers[{position}]"] = [f"Two scorers are named '{scorer.name}'; give one a 'name'."]
            continue
        names.add(scorer.name)
        clean.append({"kind": scorer.kind, "name": scorer.name, **scorer.config})
    return clean, errors


@transaction.atomic
def run_create(
    *,
    dataset: Dataset,
    ref: str,
    name: str = "",
    model: str = "",
    prompt_version: str = "",
    split: str = "",
    baseline: str | None = None,
    scorers: list[dict] | None = None,
    gates: list[dict] | None = None,
    feed_regressions: bool = True,
    metadata: dict | None = None,
    judge_secret: str = "",
    created_by_name: str = "",
) -> Run:
    """A run in `collecting`, pinned to the version `ref` resolves to now (a number, a tag or `latest`). Without
    `scorers` it uses its baseline's (the dataset's defaults, in effect), or `exact` when it has no baseline."""
    version = version_resolve(dataset=dataset, ref=str(ref))
    errors: dict[str, list[str]] = {}
    if split and split not in SPLITS:
        errors["split"] = [f"Must be one of {', '.join(SPLITS)}."]
    baseline_run = baseline_resolve(dataset=dataset, ref=baseline) if baseline not in (None, "") else None
    if scorers is None and baseline_run is not None:
        scorers = baseline_run.scorers  # the dataset's default: what its baseline measured, so both compare
    clean_scorers, scorer_errors = _clean_scorers(scorers)
    errors.update(scorer_errors)
    if baseline_run is not None and baseline_run.status != Run.Status.SUCCEEDED:
        errors["baseline"] = [f"Run {baseline_run.pk} is {baseline_run.status}; a baseline must have succeeded."]
    clean_gates, gate_errors = gates_validate(
        gates or [], scorer_names=[c["name"] for c in clean_scorers], has_baseline=baseline_run is not None
    )
    errors.update(gate_errors)
    if errors:
        raise ApplicationError("The run is invalid; see fields.", fields=errors)
    if any(c["kind"] == "judge" for c in clean_scorers) and not judge_secret:
        judge_secret = secrets.token_urlsafe(32)
    return Run.objects.create(
        project=dataset.project,
        dataset=dataset,
        version=version,
        version_number=version.number,
        version_sha256=version.sha256,
        version_ref=str(ref),
        split=split,
        name=name,
        model=model,
        prompt_version=prompt_version,
        scorers=clean_scorers,
        gates=clean_gates,
        baseline=baseline_run,
        feed_regressions=feed_regressions,
        judge_secret=judge_secret,
        metadata=metadata or {},
        created_by_name=created_by_name,
    )


def _chunk_starts(run: Run) -> tuple[list[int], int]:
    """The first ordinal of every chunk of the run's examples, and how many examples there are."""
    split_sql = "AND split = %s" if run.split else ""
    params = [run.version_id] + ([run.split] if run.split else []) + [chunk_size()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ordinal, total FROM (
                SELECT ordinal, row_number() OVER (ORDER BY ordinal) - 1 AS position, count(*) OVER () AS total
                FROM {VersionExample._meta.db_table} WHERE version_id = %s {split_sql}
            ) numbered WHERE position %% %s = 0 ORDER BY ordinal
            """,
            params,
        )
        rows = cursor.fetchall()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


@transaction.atomic
def run_complete(*, run: Run, enqueue: bool = True) -> Run:
    """Close the outputs and score: one task per chunk of examples (enqueue=False: the caller scores them, e.g.
    with services.scoring.run_score_inline). Completing twice changes nothing."""
    from evaluation.tasks import finish_run, score_run_chunk

    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.status != Run.Status.COLLECTING:
        return run
    starts, examples = _chunk_starts(run)
    outputs = RunOutput.objects.filter(run=run).count()
    run.status, run.chunk_starts, run.chunks_done = Run.Status.SCORING, starts, []
    run.counts = {"examples": examples, "outputs": outputs, "missing": examples - outputs}
    run.completed_at = timezone.now()
    run.save(update_fields=["status", "chunk_starts", "chunks_done", "counts", "completed_at"])
    queue = "embeddings" if _uses_model(run) else "default"
    run_id = run.pk
    if not enqueue:
        return run
    if not starts:
        transaction.on_commit(lambda: finish_run.delay(run_id))
    for chunk in range(len(starts)):
        transaction.on_commit(lambda chunk=chunk: score_run_chunk.apply_async((run_id, chunk), queue=queue))
    return run


def _uses_model(run: Run) -> bool:
    return any(scorer_build(config).uses_model for config in run.scorers)


def run_fail(*, run_id: int, error: str) -> None:
    Run.objects.filter(pk=run_id, status__in=[Run.Status.COLLECTING, Run.Status.SCORING]).update(
        status=Run.Status.FAILED, error=error[:5000], finished_at=timezone.now()
    )


def baseline_tag_set(*, dataset: Dataset, tag: str, run: Run) -> BaselineTag:
    """Name `run` the baseline `tag` (e.g. `prod`) of its dataset, moving the tag if it named another run."""
    if not tag or len(tag) > 100 or tag.isdigit() or not tag.replace("-", "").replace("_", "").isalnum():
        raise ApplicationError(
            "A baseline tag is letters, digits, '-' and '_', not only digits (those name runs).",
            fields={"tag": ["invalid"]},
        )
    if run.dataset_id != dataset.pk:
        raise ApplicationError(f"Run {run.pk} is not a run of '{dataset.name}'.", code="not_found", status_code=404)
    if run.status != Run.Status.SUCCEEDED:
        raise ApplicationError(
            f"Run {run.pk} is {run.status}; only a run that succeeded can be a baseline.",
            code="run_not_finished",
            status_code=409,
        )
    baseline, _ = BaselineTag.objects.update_or_create(dataset=dataset, tag=tag, defaults={"run": run})
    return baseline
