"""The evaluation flow the `goldloop eval run` command runs, as a function: create, post, complete, wait, report."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldloop.client import Client, GoldloopError

_GATE = re.compile(
    r"^\s*(?:(?P<scorer>[^.\s<>=]+)\.)?(?P<metric>pass_rate|drop|regressions)\s*(?P<op><=|>=)\s*(?P<value>[0-9.]+)\s*$"
)
_RULES = {("pass_rate", ">="): "min_pass_rate", ("drop", "<="): "max_drop", ("regressions", "<="): "max_regressions"}
# The option a `kind:value` scorer shorthand sets.
_SHORTHAND = {"semantic": ("threshold", float), "numeric": ("tolerance", float), "regex": ("pattern", str),
              "contains": ("value", str), "judge": ("url", str), "json_schema": ("schema", "file")}  # fmt: skip


class UsageError(ValueError):
    pass


def parse_gate(text: str) -> dict:
    """'semantic.pass_rate>=0.9' | 'exact.drop<=0.02' | 'regressions<=3' | 'exact.regressions<=0' -> a gate."""
    match = _GATE.match(text)
    rule = match and _RULES.get((match["metric"], match["op"]))
    if not rule:
        raise UsageError(
            f"Cannot read the gate {text!r}: use '<scorer>.pass_rate>=0.9', '<scorer>.drop<=0.02' or 'regressions<=3'."
        )
    value = float(match["value"])
    gate: dict[str, Any] = {rule: int(value) if rule == "max_regressions" else value}
    if match["scorer"]:
        gate["scorer"] = match["scorer"]
    return gate


def parse_scorer(text: str) -> dict:
    """'exact' | 'semantic:0.85' | 'regex:^\\d+$' | 'judge:https://...' | 'json_schema:schema.json' | a JSON object."""
    text = text.strip()
    if text.startswith("{"):
        try:
            config = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"The scorer {text!r} is not valid JSON: {exc}") from exc
        if not isinstance(config, dict) or "kind" not in config:
            raise UsageError("A JSON scorer is an object with a 'kind'.")
        return config
    kind, _, value = text.partition(":")
    if not value:
        return {"kind": kind}
    if kind not in _SHORTHAND:
        raise UsageError(f"The scorer '{kind}' takes no ':value'; pass a JSON object for its options.")
    option, kind_of_value = _SHORTHAND[kind]
    if kind_of_value == "file":
        try:
            return {"kind": kind, option: json.loads(Path(value).read_text())}
        except (OSError, ValueError) as exc:
            raise UsageError(f"Cannot read the JSON Schema file {value!r}: {exc}") from exc
    try:
        return {"kind": kind, option: kind_of_value(value)}
    except ValueError as exc:
        raise UsageError(f"The scorer {text!r} needs a number after ':'.") from exc


def read_outputs(path: str) -> list[dict]:
    """One JSON object per line: {"example_id": ..., "output": ..., "latency_ms"?, "metadata"?} ('id' is read as
    'example_id', so that a version's JSONL export with an added 'output' works too)."""
    outputs = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON ({exc}).") from exc
        if not isinstance(row, dict) or ("example_id" not in row and "id" not in row) or "output" not in row:
            raise UsageError(f"{path}:{number}: each line needs 'example_id' and 'output'.")
        item = {"example_id": str(row.get("example_id", row.get("id"))), "output": row["output"]}
        for key in ("latency_ms", "metadata"):
            if row.get(key) is not None:
                item[key] = row[key]
        outputs.append(item)
    return outputs


@dataclass
class EvalResult:
    run: dict
    rejected: list[dict] = field(default_factory=list)
    regressed: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.run["status"] == "succeeded" and (self.run.get("verdict") or {}).get("result") == "pass"


def evaluate(
    client: Client,
    *,
    dataset: str,
    ref: str,
    outputs: list[dict],
    split: str | None = None,
    baseline: str | None = None,
    scorers: list[dict] | None = None,
    gates: list[dict] | None = None,
    feed_regressions: bool = True,
    name: str | None = None,
    model: str | None = None,
    prompt_version: str | None = None,
    timeout: float = 3600,
    poll: float = 1.0,
    on_progress: Callable[[str, float], None] | None = None,
) -> EvalResult:
    """Create a run, post the outputs, complete it, wait for its verdict, and collect the regressed examples."""
    run = client.create_run(
        dataset, ref, split=split, baseline=baseline, scorers=scorers, gates=gates or [],
        feed_regressions=feed_regressions, name=name, model=model, prompt_version=prompt_version,
    )  # fmt: skip
    run_id, total = run["id"], max(len(outputs), 1)
    results = client.post_outputs(
        run_id, outputs, on_batch=lambda done: on_progress and on_progress("posting", done / total)
    )
    rejected = [
        {**result, "example_id": item.get("example_id")}
        for item, result in zip(outputs, results, strict=True)
        if result["status"] >= 400
    ]
    client.complete(run_id)
    run = client.wait(
        run_id, timeout=timeout, poll=poll, on_progress=lambda r: on_progress and on_progress("scoring", r["progress"])
    )
    if run["status"] != "succeeded":
        raise GoldloopError(f"Run {run_id} failed on the server: {run.get('error') or 'no reason given'}")
    regressed = list(client.results(run_id, filter="regressed")) if run.get("baseline") else []
    return EvalResult(run=run, rejected=rejected, regressed=regressed)
