import pytest

from examples_lib.selectors import dashboard_golden_sets
from examples_lib.services.examples import examples_add
from examples_lib.services.versions import version_create
from tests.examples_lib.helpers import dataset_with
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_the_golden_sets_panel_lists_each_dataset_in_one_query(project, django_assert_num_queries):
    panel = dashboard_golden_sets
    shipped = dataset_with(project, 4, name="refunds")
    version_create(dataset=shipped)
    examples_add(dataset=shipped, examples=[{"input": "q", "expected_output": "a"}])
    v2 = version_create(dataset=shipped)
    dataset_with(project, 2, name="drafting")
    dataset_with(ProjectFactory(slug="elsewhere"), 9, name="refunds")
    with django_assert_num_queries(1):
        rows = panel(project=project)
    assert rows == [
        {
            "name": "drafting",
            "draft_examples": 2,
            "latest_version": None,
            "latest_version_examples": None,
            "latest_version_created_at": None,
        },
        {
            "name": "refunds",
            "draft_examples": 5,
            "latest_version": 2,
            "latest_version_examples": 5,
            "latest_version_created_at": v2.created_at,
        },
    ]
