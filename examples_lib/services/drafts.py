"""Edits of one draft example (the admin's change form)."""

from typing import Any

from django.db import IntegrityError, transaction

from core.errors import ApplicationError
from examples_lib.canonical import content_hash
from examples_lib.models import Dataset, Example


@transaction.atomic
def example_update(*, example: Example, input: Any, expected_output: Any, metadata: dict) -> Example:
    """Change a draft example's content; its stable id and split stay, so versions show it as `changed`."""
    Dataset.objects.select_for_update().filter(pk=example.dataset_id).first()
    example.input, example.expected_output, example.metadata = input, expected_output, metadata
    example.content_hash = content_hash(input, expected_output)
    example.embedding = None  # stale once the content changes
    try:
        with transaction.atomic():
            example.save()
    except IntegrityError as error:
        raise ApplicationError(
            "Another example of the draft already has this input and expected output.",
            code="duplicate",
            status_code=409,
        ) from error
    return example
