from examples_lib.models.datasets import Dataset, Example
from examples_lib.models.versions import DatasetVersion, VersionExample, VersionTag

__all__ = ["Dataset", "DatasetVersion", "Example", "VersionExample", "VersionTag"]
