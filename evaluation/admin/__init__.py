from evaluation.admin import runs  # noqa: F401
