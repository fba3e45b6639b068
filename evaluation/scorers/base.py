"""The one interface every scorer implements, and the registry that finds them.

A scorer is a class in its own module of this package with a `kind`: defining it registers it (adding a scorer is
adding one file). It is built from its run's config (unknown or bad options raise ScorerConfigError at run
creation, not on a worker) and scores a batch of items at a time, so that the costly ones (an embedder, an HTTP
judge) pay their fixed cost once per batch.
"""

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, ClassVar

from examples_lib.canonical import text_of

MISSING_OUTPUT = "No output was posted for this example."


class ScorerConfigError(ValueError):
    pass


@dataclass(slots=True)
class Item:
    example_id: str
    input: Any
    expected: Any
    output: Any
    _output_text: str | None = None
    _expected_text: str | None = None

    @property
    def output_text(self) -> str:
        """The output's readable text, computed once for all the run's scorers."""
        if self._output_text is None:
            self._output_text = text_of(self.output)
        return self._output_text

    @property
    def expected_text(self) -> str:
        if self._expected_text is None:
            self._expected_text = text_of(self.expected)
        return self._expected_text


@dataclass(slots=True)
class Result:
    score: float | None
    passed: bool
    error: str = ""


def text(value: Any) -> str:
    """Readable text of an output or expected value (chat messages become their contents)."""
    return text_of(value)


class Scorer:
    kind: ClassVar[str] = ""
    options: ClassVar[dict[str, type | tuple[type, ...]]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    uses_model: ClassVar[bool] = False  # scored on the embeddings queue, where the model is warm
    reads_input: ClassVar[bool] = False  # most scorers compare output and expected only

    _registry: ClassVar[dict[str, type["Scorer"]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Scorer._registry[cls.kind] = cls

    def __init__(self, *, name: str | None = None, **config: Any):
        unknown = sorted(set(config) - set(self.options))
        if unknown:
            raise ScorerConfigError(f"Unknown option(s) for '{self.kind}': {', '.join(unknown)}.")
        for option in self.required:
            if config.get(option) is None:
                raise ScorerConfigError(f"'{self.kind}' needs '{option}'.")
        for option, value in config.items():
            expected = self.options[option]
            if value is not None and (
                not isinstance(value, expected) or (isinstance(value, bool) and bool not in _as_tuple(expected))
            ):
                raise ScorerConfigError(f"'{self.kind}' option '{option}' has the wrong type.")
        self.name = name or self.kind
        self.config = config
        self.setup(**config)

    def setup(self, **config: Any) -> None:
        """Validate and prepare options (raise ScorerConfigError)."""

    def score_batch(self, items: list[Item]) -> list[Result]:
        """One Result per item, in order. Never raises for one bad item: that item gets an error."""
        raise NotImplementedError


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _discover() -> None:
    package = importlib.import_module("evaluation.scorers")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "base":
            importlib.import_module(f"evaluation.scorers.{module.name}")


def scorer_kinds() -> list[str]:
    _discover()
    return sorted(Scorer._registry)


def scorer_build(config: dict[str, Any]) -> Scorer:
    """A scorer from one config of a run: {"kind": ..., "name": ..., **options}."""
    _discover()
    if not isinstance(config, dict):
        raise ScorerConfigError("Each scorer must be an object with a 'kind'.")
    options = dict(config)
    kind = options.pop("kind", None)
    cls = Scorer._registry.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ScorerConfigError(f"'kind' must be one of {', '.join(sorted(Scorer._registry))}.")
    name = options.pop("name", None)
    if name is not None and (not isinstance(name, str) or not name or len(name) > 100 or "." in name):
        raise ScorerConfigError("'name' must be 1 to 100 characters without a dot.")
    return cls(name=name, **options)
