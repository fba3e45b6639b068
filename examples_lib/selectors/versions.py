from django.db import connection
from django.db.models import Prefetch, QuerySet

from core.errors import ApplicationError
from examples_lib.models import Dataset, DatasetVersion, VersionExample, VersionTag


def version_list(*, dataset: Dataset) -> QuerySet[DatasetVersion]:
    return (
        DatasetVersion.objects.filter(dataset=dataset)
        .select_related("dataset", "parent")
        .prefetch_related(Prefetch("tags", queryset=VersionTag.objects.order_by("name")))
        .order_by("-number")
    )


def version_resolve(*, dataset: Dataset, ref: str) -> DatasetVersion:
    """A version by number, tag, or `latest`."""
    versions = version_list(dataset=dataset)
    if ref == "latest":
        version = versions.first()
    elif ref.isascii() and ref.isdigit():
        version = versions.filter(number=int(ref)).first()
    else:
        version = versions.filter(tags__name=ref).first()
    if version is None:
        raise ApplicationError(
            f"Dataset '{dataset.name}' has no version '{ref}' (give a number, a tag, or 'latest').",
            code="not_found",
            status_code=404,
        )
    return version


DIFF_FIELDS = ("input", "expected_output", "metadata", "lineage", "split")


def version_diff(*, base: DatasetVersion, other: DatasetVersion) -> dict:
    """Examples added, removed and changed (same stable id, other content) from `base` to `other`, in one query.

    `changed` names the fields that differ for each example."""
    table = VersionExample._meta.db_table
    differs = ", ".join(f"CASE WHEN a.{f} IS DISTINCT FROM b.{f} THEN '{f}' END" for f in DIFF_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT coalesce(a.stable_id, b.stable_id),
                   CASE WHEN a.stable_id IS NULL THEN 'added' WHEN b.stable_id IS NULL THEN 'removed'
                        ELSE 'changed' END,
                   array_remove(ARRAY[{differs}], NULL)
            FROM (SELECT * FROM {table} WHERE version_id = %s) a
            FULL OUTER JOIN (SELECT * FROM {table} WHERE version_id = %s) b ON a.stable_id = b.stable_id
            WHERE a.stable_id IS NULL OR b.stable_id IS NULL
               OR a.input <> b.input OR a.expected_output <> b.expected_output OR a.metadata <> b.metadata
               OR a.lineage <> b.lineage OR a.split <> b.split
            ORDER BY coalesce(b.ordinal, a.ordinal + 1000000000), 1
            """,
            [base.pk, other.pk],
        )
        rows = cursor.fetchall()
    diff: dict = {"added": [], "removed": [], "changed": []}
    for stable_id, kind, fields in rows:
        diff[kind].append({"id": stable_id, "fields": fields} if kind == "changed" else stable_id)
    diff["counts"] = {kind: len(items) for kind, items in diff.items()}
    return {"from": base.number, "to": other.number, **diff}
