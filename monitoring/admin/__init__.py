"""Admin of monitoring: alert rules, alerts, webhook deliveries, and the dashboard page."""

from monitoring.admin import alerts  # noqa: F401
