from django.db.models import Count, OuterRef, QuerySet, Subquery

from core.errors import ApplicationError
from examples_lib.models import Dataset, DatasetVersion, Example
from feedback.models import Project


def dataset_list(*, project: Project) -> QuerySet[Dataset]:
    """The project's datasets with their draft size and latest version number."""
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
    return (
        Dataset.objects.filter(project=project)
        .annotate(
            draft_count=Count("examples", distinct=True),
            latest_version=Subquery(latest.values("number")[:1]),
        )
        .order_by("name")
    )


def dataset_get(*, project: Project, name: str) -> Dataset:
    """A dataset of the project by name; another project's dataset does not exist (404)."""
    dataset = dataset_list(project=project).select_related("project").filter(name=name).first()
    if dataset is None:
        raise ApplicationError(f"No dataset named '{name}' in this project.", code="not_found", status_code=404)
    return dataset


def example_list(*, dataset: Dataset) -> QuerySet[Example]:
    return Example.objects.filter(dataset=dataset).defer("embedding").order_by("id")
