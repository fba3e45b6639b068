"""Writes of the golden-dataset app, one module per concern."""
