import hashlib

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from examples_lib.admin import promote_to_dataset
from examples_lib.models import DatasetVersion, Example
from examples_lib.services.datasets import dataset_create
from examples_lib.services.versions import version_create
from feedback.admin.clusters import ClusterAdmin
from feedback.admin.review_queue import ReviewQueueAdmin
from feedback.models import Cluster
from tests.examples_lib.helpers import dataset_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineer(django_user_model, client):
    user = django_user_model.objects.create_user("ml-eng", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="ML engineer"))
    client.force_login(user)
    return user


@pytest.fixture
def root(admin_client):
    return admin_client


def test_the_ml_engineer_group_curates_but_never_changes_versions(engineer):
    granted = set(
        Group.objects.get(name="ML engineer")
        .permissions.filter(content_type__app_label="examples_lib")
        .values_list("codename", flat=True)
    )
    assert {
        "add_dataset",
        "change_dataset",
        "view_dataset",
        "add_example",
        "change_example",
        "view_example",
        "add_datasetversion",
        "view_datasetversion",
    } <= granted
    assert not {"change_datasetversion", "delete_datasetversion", "delete_dataset"} & granted


def test_the_promote_action_is_on_the_review_queue_and_clusters():
    assert promote_to_dataset in ReviewQueueAdmin.actions
    assert promote_to_dataset in ClusterAdmin.actions


def test_promote_from_the_review_queue_through_the_intermediate_page(engineer, client, project, reviewed):
    dataset = dataset_create(project=project, name="refund-answers")
    ok = reviewed("corrected", correction="Refunds take 14 days.")
    unreviewed = reviewed(None)
    url = reverse("admin:feedback_reviewitem_changelist")
    selected = {"action": "promote_to_dataset", "_selected_action": [ok.pk, unreviewed.pk]}
    page = client.post(url, selected)
    assert page.status_code == 200
    assert b"refund-answers" in page.content and b'name="dataset"' in page.content
    done = client.post(url, {**selected, "apply": "1", "dataset": dataset.pk}, follow=True)
    text = done.content.decode()
    assert "1 added to &#x27;refund-answers&#x27;" in text and "1 refused" in text
    assert "Not reviewed by an SME yet" in text
    assert list(Example.objects.values_list("expected_output", flat=True)) == ["Refunds take 14 days."]


def test_promote_a_whole_cluster(root, project, reviewed):
    dataset = dataset_create(project=project, name="refund-answers")
    cluster = Cluster.objects.create(project=project, label="refund window")
    for i in range(3):
        reviewed("corrected", correction=f"Fix {i}.", cluster=cluster)
    root.post(
        reverse("admin:feedback_cluster_changelist"),
        {"action": "promote_to_dataset", "_selected_action": [cluster.pk], "apply": "1", "dataset": dataset.pk},
    )
    assert Example.objects.filter(dataset=dataset).count() == 3
    assert set(Example.objects.values_list("lineage__cluster", flat=True)) == {"refund window"}


def test_someone_without_curation_rights_cannot_promote(client, django_user_model, project, reviewed):
    user = django_user_model.objects.create_user("sme", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="SME"))
    client.force_login(user)
    dataset = dataset_create(project=project, name="refund-answers")
    ok = reviewed("correct")
    client.post(
        reverse("admin:feedback_reviewitem_changelist"),
        {"action": "promote_to_dataset", "_selected_action": [ok.pk], "apply": "1", "dataset": dataset.pk},
    )
    assert not Example.objects.exists()


def test_versions_are_read_only_even_for_a_superuser(root, project):
    version = version_create(dataset=dataset_with(project, 3))
    change_url = reverse("admin:examples_lib_datasetversion_change", args=[version.pk])
    page = root.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content and b"sha256" in page.content
    root.post(change_url, {"note": "edited"})
    assert root.get(reverse("admin:examples_lib_datasetversion_delete", args=[version.pk])).status_code == 403
    assert root.get(reverse("admin:examples_lib_datasetversion_add")).status_code == 403
    version.refresh_from_db()
    assert version.note == "" and DatasetVersion.objects.count() == 1


def test_freeze_export_and_diff_in_the_admin(engineer, client, project):
    dataset = dataset_with(project, 4)
    changelist = reverse("admin:examples_lib_dataset_changelist")
    client.post(changelist, {"action": "freeze_draft", "_selected_action": [dataset.pk]})
    Example.objects.filter(stable_id="ex-0").delete()
    client.post(changelist, {"action": "freeze_draft", "_selected_action": [dataset.pk]})
    v1, v2 = DatasetVersion.objects.order_by("number")
    assert (v1.example_count, v2.example_count) == (4, 3) and v2.created_by_name == "ml-eng"

    export = client.get(reverse("admin:examples_lib_datasetversion_export", args=[v1.pk, "jsonl"]))
    assert hashlib.sha256(b"".join(export.streaming_content)).hexdigest() == v1.sha256

    diff = client.get(reverse("admin:examples_lib_dataset_diff", args=[dataset.pk]) + "?a=1&b=2").content.decode()
    assert "0 added, 1 removed, 0 changed" in diff and "ex-0" in diff


def test_add_and_edit_a_draft_example_in_the_admin(root, project):
    dataset = dataset_with(project, 1)
    add = reverse("admin:examples_lib_example_add")
    root.post(
        add, {"dataset": dataset.pk, "input": '"new question"', "expected_output": '"new answer"', "metadata": "{}"}
    )
    example = Example.objects.get(input="new question")
    assert example.lineage == {"source": "admin", "added_by": "admin"} and example.split
    duplicate = root.post(
        add, {"dataset": dataset.pk, "input": '"New  question"', "expected_output": '"new answer"', "metadata": "{}"}
    )
    assert b"already has this input and expected output" in duplicate.content
    change = reverse("admin:examples_lib_example_change", args=[example.pk])
    root.post(change, {"input": '"new question"', "expected_output": '"better answer"', "metadata": "{}"})
    example.refresh_from_db()
    assert example.expected_output == "better answer"


def test_changelists_do_not_grow_queries_with_rows(root, project, django_assert_max_num_queries):
    for name in ("a", "b", "c"):
        dataset = dataset_with(project, 5, name=name)
        version_create(dataset=dataset, tag="prod")
    for url in (
        "admin:examples_lib_dataset_changelist",
        "admin:examples_lib_example_changelist",
        "admin:examples_lib_datasetversion_changelist",
        "admin:examples_lib_versiontag_changelist",
    ):
        with django_assert_max_num_queries(12):
            assert root.get(reverse(url)).status_code == 200


def test_deleting_a_dataset_in_the_admin_removes_its_versions(root, project):
    dataset = dataset_with(project, 3)
    version_create(dataset=dataset)
    url = reverse("admin:examples_lib_dataset_delete", args=[dataset.pk])
    confirm = root.get(url).content.decode()
    assert "3 draft example(s) and 1 frozen version(s)" in confirm
    root.post(url, {"post": "yes"})
    assert not DatasetVersion.objects.exists() and not Example.objects.exists()
