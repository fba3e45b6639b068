"""Admin registrations, one module per concern; importing them registers them."""

from feedback.admin import clusters, interactions, monitoring, projects, review_queue, reviews  # noqa: F401
