from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction

from core.errors import ApplicationError
from examples_lib.canonical import SPLITS
from examples_lib.models import Dataset
from feedback.models import Project

DEFAULT_RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _validated_ratios(ratios: dict[str, float] | None) -> dict[str, float]:
    ratios = {**DEFAULT_RATIOS, **(ratios or {})}
    problems = []
    if set(ratios) - set(SPLITS):
        problems.append(f"Splits are {', '.join(SPLITS)}.")
    if any(not isinstance(value, int | float) or value < 0 for value in ratios.values()):
        problems.append("Ratios are numbers from 0 to 1.")
    elif abs(sum(ratios.values()) - 1) > 1e-6:
        problems.append("The ratios must add up to 1.")
    if problems:
        raise ApplicationError("The split ratios are invalid.", fields={"split": problems})
    return ratios


@transaction.atomic
def dataset_create(
    *,
    project: Project,
    name: str,
    description: str = "",
    split: dict[str, float] | None = None,
    near_duplicate_threshold: float = 0.95,
    created_by: AbstractBaseUser | None = None,
) -> Dataset:
    ratios = _validated_ratios(split)
    if not 0 < near_duplicate_threshold <= 1:
        raise ApplicationError(
            "The near-duplicate threshold is a cosine similarity above 0 and at most 1.",
            fields={"near_duplicate_threshold": ["Give a number above 0 and at most 1."]},
        )
    try:
        with transaction.atomic():
            return Dataset.objects.create(
                project=project,
                name=name,
                description=description,
                train_ratio=ratios["train"],
                validation_ratio=ratios["validation"],
                test_ratio=ratios["test"],
                near_duplicate_threshold=near_duplicate_threshold,
                created_by=created_by,
            )
    except IntegrityError as error:
        raise ApplicationError(
            f"A dataset named '{name}' already exists in this project.", code="conflict", status_code=409
        ) from error


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset with its draft and every version: the one path allowed to remove frozen rows.

    The immutability trigger refuses DELETE on versions unless `goldloop.allow_version_delete` is on. It is set
    transaction-locally and switched off again right after, so that an enclosing transaction (the admin's) gets no
    wider permission; if the delete fails, rolling back the savepoint reverts the setting too.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('goldloop.allow_version_delete', 'on', true)")
        dataset.delete()
        cursor.execute("SELECT set_config('goldloop.allow_version_delete', 'off', true)")
