"""Gates: the release rules a run must meet. One definition, used by run creation (validation) and the verdict."""

from typing import Any

GATE_KEYS = ("min_pass_rate", "max_drop", "max_regressions")
NEEDS_BASELINE = ("max_drop", "max_regressions")


def gates_validate(gates: Any, *, scorer_names: list[str], has_baseline: bool) -> tuple[list[dict], dict]:
    """Clean gates, and field errors by gate position."""
    if not isinstance(gates, list):
        return [], {"gates": ["Must be a list."]}
    clean, errors = [], {}
    for position, gate in enumerate(gates):
        field = f"gates[{position}]"
        if not isinstance(gate, dict):
            errors[field] = ['Each gate is an object, e.g. {"scorer": "exact", "min_pass_rate": 0.9}.']
            continue
        rules = [key for key in GATE_KEYS if key in gate]
        unknown = sorted(set(gate) - set(GATE_KEYS) - {"scorer"})
        scorer = gate.get("scorer")
        problems = []
        if unknown:
            problems.append(f"Unknown key(s): {', '.join(unknown)}.")
        if len(rules) != 1:
            problems.append(f"Give exactly one of {', '.join(GATE_KEYS)}.")
        if scorer is not None and scorer not in scorer_names:
            problems.append(f"'scorer' must name one of the run's scorers: {', '.join(scorer_names)}.")
        for rule in rules:
            value = gate[rule]
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"'{rule}' must be a number.")
            elif rule == "max_regressions" and (value < 0 or int(value) != value):
                problems.append("'max_regressions' must be a whole number >= 0.")
            elif rule != "max_regressions" and not 0 <= value <= 1:
                problems.append(f"'{rule}' is a rate between 0 and 1.")
            if rule in NEEDS_BASELINE and not has_baseline:
                problems.append(f"'{rule}' compares with a baseline; name one with 'baseline'.")
        if problems:
            errors[field] = problems
        else:
            clean.append({"scorer": scorer, rules[0]: gate[rules[0]]} if scorer else {rules[0]: gate[rules[0]]})
    return clean, errors


def gates_verdict(gates: list[dict], summary: dict) -> dict:
    """{"result": "pass"|"fail", "reasons": [why each failed gate failed], "checks": [each gate's outcome]}."""
    scorers: dict = summary.get("scorers", {})
    checks = []
    for gate in gates:
        names = [gate["scorer"]] if gate.get("scorer") else list(scorers)
        for rule in GATE_KEYS:
            if rule in gate:
                limit = gate[rule]
                break
        if rule == "max_regressions" and not gate.get("scorer"):
            actual = summary.get("regressions", 0)
            checks.append(_check(f"regressions <= {limit:g}", actual <= limit, actual, "regressed examples"))
            continue
        for name in names:
            stats = scorers.get(name, {})
            baseline = stats.get("baseline") or {}
            if rule == "min_pass_rate":
                actual = stats.get("pass_rate")
                ok = actual is not None and actual >= limit
                checks.append(_check(f"{name}.pass_rate >= {limit:g}", ok, actual, "pass rate"))
            elif rule == "max_drop":
                delta = baseline.get("delta")
                actual = None if delta is None else round(-delta, 6)
                ok = actual is not None and actual <= limit
                checks.append(_check(f"{name}.drop <= {limit:g}", ok, actual, "drop against the baseline"))
            else:
                actual = baseline.get("regressions")
                ok = actual is not None and actual <= limit
                checks.append(_check(f"{name}.regressions <= {limit:g}", ok, actual, "regressions"))
    reasons = [check["reason"] for check in checks if not check["passed"]]
    return {"result": "fail" if reasons else "pass", "reasons": reasons, "checks": checks}


def _check(gate: str, ok: bool, actual, what: str) -> dict:
    shown = "n/a" if actual is None else f"{actual:g}" if isinstance(actual, float) else str(actual)
    return {
        "gate": gate,
        "passed": bool(ok),
        "actual": actual,
        "reason": "" if ok else f"{gate} failed: {what} is {shown}.",
    }
