"""The demo project's golden dataset: what `load_demo` shows an ML engineer on first look.

The demo SME's reviewed cases are promoted into the dataset "support-answers" and frozen as version 1, tagged
`prod`, through the same services as the API and the admin.
"""

from examples_lib.models import Dataset
from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_promote
from examples_lib.services.versions import version_create
from feedback.models import Interaction, Project, Review

DEMO_DATASET = "support-answers"


def load(*, project: Project, stdout) -> None:
    """Idempotent: does nothing when the demo dataset exists already."""
    if Dataset.objects.filter(project=project, name=DEMO_DATASET).exists():
        return
    dataset = dataset_create(
        project=project,
        name=DEMO_DATASET,
        description="Answers the demo SME vouched for: corrections, and outputs marked correct.",
    )
    reviewed = Interaction.objects.filter(
        project=project,
        reviews__superseded_at__isnull=True,
        reviews__verdict__in=[Review.Verdict.CORRECT, Review.Verdict.CORRECTED],
    ).distinct()
    examples_promote(dataset=dataset, interactions=reviewed)
    if dataset.examples.exists():
        version = version_create(
            dataset=dataset, note="Demo: the first reviewed set.", tag="prod", created_by_name="demo"
        )
        stdout.write(f"demo: golden dataset '{DEMO_DATASET}' v{version.number} ({version.example_count} examples)\n")
