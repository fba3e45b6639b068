from django.db.models import OuterRef, Subquery

from examples_lib.models import DatasetVersion
from examples_lib.selectors.datasets import dataset_list
from feedback.models import Project


def dashboard_golden_sets(*, project: Project) -> list[dict]:
    """The golden-sets panel of the monitoring dashboard (monitoring/selectors/dashboard.py), in one query."""
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
    rows = dataset_list(project=project).annotate(
        latest_version_count=Subquery(latest.values("example_count")[:1]),
        latest_version_created_at=Subquery(latest.values("created_at")[:1]),
    )
    return [
        {
            "name": dataset.name,
            "draft_examples": dataset.draft_count,
            "latest_version": dataset.latest_version,
            "latest_version_examples": dataset.latest_version_count,
            "latest_version_created_at": dataset.latest_version_created_at,
        }
        for dataset in rows
    ]
