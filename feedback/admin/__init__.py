"""Admin registrations, one module per concern; importing them registers them."""

from feedback.admin import agreement, clusters, connect, interactions, projects, review_queue, reviews  # noqa: F401
