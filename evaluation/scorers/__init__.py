"""Scorers: one module per kind, behind the interface of scorers/base.py."""

from evaluation.scorers.base import (
    MISSING_OUTPUT,
    Item,
    Result,
    Scorer,
    ScorerConfigError,
    scorer_build,
    scorer_kinds,
)

__all__ = ["MISSING_OUTPUT", "Item", "Result", "Scorer", "ScorerConfigError", "scorer_build", "scorer_kinds"]
