"""Freezing a draft into an immutable version, and moving tags."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from core.errors import ApplicationError
from examples_lib.canonical import CANONICAL_LINE_SQL, SPLITS
from examples_lib.exports import stored_sha256
from examples_lib.models import Dataset, DatasetVersion, Example, VersionExample, VersionTag

RESERVED_TAGS = {"latest"}


def _validated_tag(name: str) -> str:
    if name in RESERVED_TAGS or name.isdigit():
        raise ApplicationError(
            f"'{name}' cannot be a tag: 'latest' and numbers already name versions.", fields={"tag": ["Reserved."]}
        )
    return name


@transaction.atomic
def version_create(
    *,
    dataset: Dataset,
    note: str = "",
    tag: str | None = None,
    created_by: AbstractBaseUser | None = None,
    created_by_name: str = "",
) -> DatasetVersion:
    """Freeze the draft as the next version: one INSERT ... SELECT copies it, then the hash seals the version."""
    if tag:
        _validated_tag(tag)
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    parent = dataset.versions.order_by("-number").first()
    if not Example.objects.filter(dataset=dataset).exists():
        raise ApplicationError("The draft has no examples; add some before freezing a version.", code="empty_draft")
    version = DatasetVersion.objects.create(
        dataset=dataset,
        number=(parent.number + 1) if parent else 1,
        note=note,
        parent=parent,
        created_by=created_by,
        created_by_name=created_by_name or (created_by.get_username() if created_by else ""),
    )
    with connection.cursor() as cursor:
        # One statement copies the draft in its order and counts the splits of what it wrote.
        cursor.execute(
            f"""
            WITH frozen AS (
                INSERT INTO {VersionExample._meta.db_table}
                    (version_id, stable_id, input, expected_output, metadata, split, lineage, ordinal, line)
                SELECT %s, stable_id, input, expected_output, metadata, split, lineage,
                       row_number() OVER (ORDER BY id), {CANONICAL_LINE_SQL}
                FROM {Example._meta.db_table} WHERE dataset_id = %s
                RETURNING split
            )
            SELECT split, count(*) FROM frozen GROUP BY split
            """,
            [version.pk, dataset.pk],
        )
        counts = {split: 0 for split in SPLITS} | dict(cursor.fetchall())
    sha256 = stored_sha256(version_id=version.pk)
    if parent is not None and parent.sha256 == sha256:
        raise ApplicationError(
            f"The draft is identical to version {parent.number}; tag that version instead.",
            code="draft_unchanged",
            status_code=409,
        )
    # Sealing: the trigger lets a version's content fields be set once, while its sha256 is still empty.
    DatasetVersion.objects.filter(pk=version.pk).update(
        sha256=sha256, counts=counts, example_count=sum(counts.values())
    )
    version.sha256, version.counts, version.example_count = sha256, counts, sum(counts.values())
    if tag:
        version_tag(dataset=dataset, version=version, name=tag)
    return version


@transaction.atomic
def version_tag(*, dataset: Dataset, version: DatasetVersion, name: str) -> VersionTag:
    """Point the tag `name` (e.g. `prod`) at `version`, moving it if it named another version."""
    tag, _ = VersionTag.objects.update_or_create(
        dataset=dataset, name=_validated_tag(name), defaults={"version": version}
    )
    return tag
