"""Writes of the evaluation app, one module per concern."""
