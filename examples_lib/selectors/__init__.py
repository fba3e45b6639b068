"""Reads of the golden-dataset app, one module per concern."""

from examples_lib.selectors.dashboard import dashboard_golden_sets

__all__ = ["dashboard_golden_sets"]
