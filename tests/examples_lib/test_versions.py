import pytest
from django.db import DatabaseError, connection, transaction

from core.errors import ApplicationError
from examples_lib.canonical import split_for
from examples_lib.exports import canonical_sha256
from examples_lib.models import Dataset, DatasetVersion, Example, VersionExample
from examples_lib.selectors.versions import version_diff, version_resolve
from examples_lib.services.datasets import dataset_delete
from examples_lib.services.drafts import example_update
from examples_lib.services.examples import examples_add
from examples_lib.services.versions import version_create, version_tag
from tests.examples_lib.helpers import dataset_with

pytestmark = pytest.mark.django_db


def test_freezing_copies_the_draft_with_counts_and_a_hash(project):
    dataset = dataset_with(project, 200)
    version = version_create(dataset=dataset, note="first")
    assert version.number == 1 and version.example_count == 200
    assert sum(version.counts.values()) == 200 and set(version.counts) == {"train", "validation", "test"}
    assert 120 < version.counts["train"] < 190  # 80% of 200, give or take the hash
    rows = list(version.examples.order_by("ordinal").values_list("stable_id", "ordinal"))
    assert rows == [(f"ex-{i}", i + 1) for i in range(200)]
    assert version.sha256 == canonical_sha256(version_id=version.pk)


def test_the_next_version_points_at_its_parent_and_the_draft_stays_editable(project):
    dataset = dataset_with(project, 3)
    first = version_create(dataset=dataset)
    examples_add(dataset=dataset, examples=[{"input": "q", "expected_output": "a"}])
    second = version_create(dataset=dataset)
    assert (second.number, second.parent_id, second.example_count) == (2, first.pk, 4)
    assert first.examples.count() == 3


def test_an_empty_or_unchanged_draft_is_not_frozen(project):
    with pytest.raises(ApplicationError) as empty:
        version_create(dataset=dataset_with(project, 0, name="empty"))
    assert empty.value.code == "empty_draft"
    dataset = dataset_with(project, 2)
    version_create(dataset=dataset)
    with pytest.raises(ApplicationError) as unchanged:
        version_create(dataset=dataset)
    assert unchanged.value.status_code == 409
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1


def _raw(sql: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_trigger_refuses_to_update_or_delete_frozen_rows(project):
    version = version_create(dataset=dataset_with(project, 3))
    table = VersionExample._meta.db_table
    with pytest.raises(DatabaseError, match="immutable"):
        _raw(f"UPDATE {table} SET expected_output = '\"tampered\"' WHERE version_id = %s", [version.pk])
    with pytest.raises(DatabaseError, match="immutable"):
        _raw(f"DELETE FROM {table} WHERE version_id = %s", [version.pk])
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        VersionExample.objects.filter(version=version).update(split="test")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(sha256="0" * 64)
    with pytest.raises(DatabaseError, match="immutable"):
        _raw(f"DELETE FROM {DatasetVersion._meta.db_table} WHERE id = %s", [version.pk])
    assert version.examples.count() == 3
    assert canonical_sha256(version_id=version.pk) == version.sha256


def test_a_versions_note_may_change_but_not_its_content(project):
    version = version_create(dataset=dataset_with(project, 2))
    DatasetVersion.objects.filter(pk=version.pk).update(note="shipped to prod")
    with pytest.raises(DatabaseError), transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(counts={"train": 99})


def test_deleting_the_whole_dataset_is_the_one_way_to_remove_versions(project):
    dataset = dataset_with(project, 3)
    version_create(dataset=dataset)
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            Dataset.objects.filter(pk=dataset.pk).delete()
    dataset_delete(dataset=dataset)
    assert not VersionExample.objects.exists() and not DatasetVersion.objects.exists()
    with connection.cursor() as cursor:  # switched off again for the rest of the enclosing transaction
        cursor.execute("SELECT current_setting('goldloop.allow_version_delete', true)")
        assert cursor.fetchone()[0] in (None, "", "off")


def test_splits_are_deterministic_and_kept_in_every_version(project):
    dataset = dataset_with(project, 100)
    first = version_create(dataset=dataset)
    Dataset.objects.filter(pk=dataset.pk).update(train_ratio=0.2, validation_ratio=0.4, test_ratio=0.4)
    dataset.refresh_from_db()
    examples_add(dataset=dataset, examples=[{"id": "ex-new", "input": "q", "expected_output": "a"}])
    example = Example.objects.get(stable_id="ex-5")
    example_update(example=example, input="changed", expected_output="changed", metadata={})
    second = version_create(dataset=dataset)
    splits_first = dict(first.examples.values_list("stable_id", "split"))
    splits_second = dict(second.examples.values_list("stable_id", "split"))
    assert all(splits_second[stable_id] == split for stable_id, split in splits_first.items())
    assert splits_first == {
        f"ex-{i}": split_for(f"ex-{i}", {"train": 0.8, "validation": 0.1, "test": 0.1}) for i in range(100)
    }
    assert splits_second["ex-new"] == split_for("ex-new", dataset.ratios)


def test_split_for_follows_the_ratios():
    ratios = {"train": 0.8, "validation": 0.1, "test": 0.1}
    splits = [split_for(f"id-{i}", ratios) for i in range(5000)]
    assert splits == [split_for(f"id-{i}", ratios) for i in range(5000)]
    assert 0.77 < splits.count("train") / 5000 < 0.83
    assert 0.08 < splits.count("test") / 5000 < 0.12


def test_diff_reports_added_removed_and_changed(project):
    dataset = dataset_with(project, 5)
    v1 = version_create(dataset=dataset)
    Example.objects.filter(stable_id="ex-1").delete()
    example_update(
        example=Example.objects.get(stable_id="ex-2"), input="question 2", expected_output="better", metadata={}
    )
    example_update(
        example=Example.objects.get(stable_id="ex-3"),
        input="question 3",
        expected_output="answer 3",
        metadata={"reviewed": True},
    )
    examples_add(dataset=dataset, examples=[{"id": "ex-9", "input": "q9", "expected_output": "a9"}])
    v2 = version_create(dataset=dataset)
    diff = version_diff(base=v1, other=v2)
    assert diff["added"] == ["ex-9"]
    assert diff["removed"] == ["ex-1"]
    assert diff["changed"] == [{"id": "ex-2", "fields": ["expected_output"]}, {"id": "ex-3", "fields": ["metadata"]}]
    assert diff["counts"] == {"added": 1, "removed": 1, "changed": 2}
    back = version_diff(base=v2, other=v1)
    assert (back["added"], back["removed"]) == (["ex-1"], ["ex-9"])
    assert version_diff(base=v1, other=v1)["counts"] == {"added": 0, "removed": 0, "changed": 0}


def test_refs_are_numbers_tags_or_latest_and_tags_move(project):
    dataset = dataset_with(project, 2)
    v1 = version_create(dataset=dataset, tag="prod")
    examples_add(dataset=dataset, examples=[{"input": "q", "expected_output": "a"}])
    v2 = version_create(dataset=dataset)
    assert version_resolve(dataset=dataset, ref="latest") == v2
    assert version_resolve(dataset=dataset, ref="1") == v1
    assert version_resolve(dataset=dataset, ref="prod") == v1
    version_tag(dataset=dataset, version=v2, name="prod")
    assert version_resolve(dataset=dataset, ref="prod") == v2
    for bad in ("latest", "7"):
        with pytest.raises(ApplicationError):
            version_tag(dataset=dataset, version=v1, name=bad)
    with pytest.raises(ApplicationError) as missing:
        version_resolve(dataset=dataset, ref="staging")
    assert missing.value.status_code == 404


def test_a_project_with_frozen_versions_cannot_be_deleted_behind_its_datasets_back(project):
    version_create(dataset=dataset_with(project, 2))
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        project.delete()
    assert VersionExample.objects.count() == 2
