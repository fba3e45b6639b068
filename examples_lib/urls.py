"""API routes of the golden datasets."""

urlpatterns: list = []
