"""goldloop client: regression runs against pinned golden dataset versions (HTTP only, standard library only)."""

from goldloop.client import Client, GoldloopError
from goldloop.evaluate import EvalResult, evaluate, parse_gate, parse_scorer, read_outputs

__all__ = ["Client", "EvalResult", "GoldloopError", "evaluate", "parse_gate", "parse_scorer", "read_outputs"]
__version__ = "0.1.0"
