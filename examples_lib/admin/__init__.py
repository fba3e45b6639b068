"""Admin for ML engineers: datasets and drafts, read-only versions with exports and diffs, and the "promote to
dataset" action that this app adds to the review queue and the clusters page of the feedback app."""

from examples_lib.admin import datasets, versions  # noqa: F401
from examples_lib.admin.promotion import promote_to_dataset

__all__ = ["promote_to_dataset"]
