"""Admin registrations, one module per concern; importing them registers them."""

from feedback.admin import clusters, monitoring, projects, review_queue  # noqa: F401
