"""Builders shared by the evaluation tests."""

from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_add
from examples_lib.services.versions import version_create


def golden(project, n: int = 20, name: str = "support-answers", tag: str | None = "prod"):
    """A dataset of n examples ex-0..ex-{n-1} (expected 'answer i'), frozen as a version."""
    dataset = dataset_create(project=project, name=name)
    examples_add(
        dataset=dataset,
        examples=[{"id": f"ex-{i}", "input": f"question {i}", "expected_output": f"answer {i}"} for i in range(n)],
    )
    version = version_create(dataset=dataset, tag=tag)
    return dataset, version


def outputs(n: int, wrong: set[int] = frozenset(), missing: set[int] = frozenset()) -> list[dict]:
    return [
        {"example_id": f"ex-{i}", "output": f"wrong {i}" if i in wrong else f"answer {i}", "latency_ms": 100 + i}
        for i in range(n)
        if i not in missing
    ]
