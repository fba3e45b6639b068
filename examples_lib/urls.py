"""API routes of the golden datasets (included under /api/v1/ by config/urls.py)."""

from examples_lib.apis import urlpatterns

__all__ = ["urlpatterns"]
