"""Small builders shared by the golden-dataset tests (they call the services under test only for setup)."""

from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_add


def dataset_with(project, n: int = 10, name: str = "refund-answers", **kwargs):
    dataset = dataset_create(project=project, name=name, **kwargs)
    examples_add(
        dataset=dataset,
        examples=[{"id": f"ex-{i}", "input": f"question {i}", "expected_output": f"answer {i}"} for i in range(n)],
    )
    return dataset
