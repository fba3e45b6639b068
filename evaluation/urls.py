"""API routes of evaluation (included under /api/v1/ by config/urls.py)."""

from evaluation.apis.runs import urlpatterns

__all__ = ["urlpatterns"]
