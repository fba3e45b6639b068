"""API routes of monitoring (included under /api/v1/ by config/urls.py)."""

from monitoring.apis import urlpatterns

__all__ = ["urlpatterns"]
