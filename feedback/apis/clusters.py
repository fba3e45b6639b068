"""API views: filled in by its capability."""

urlpatterns: list = []
