"""`goldloop eval run ...`: exit 0 when every gate holds, 1 when one fails, 2 on a usage or connection error."""

import argparse
import os
import sys
from pathlib import Path

from goldloop.client import Client, GoldloopError
from goldloop.evaluate import EvalResult, UsageError, evaluate, parse_gate, parse_scorer, read_outputs
from goldloop.junit import junit_xml

EXIT_PASS, EXIT_GATE_FAILED, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 on usage errors already; keep the message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"goldloop: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="goldloop", description="The goldloop command: evaluate candidates in CI.")
    parser.add_argument("--url", default=os.environ.get("GOLDLOOP_URL"), help="Server URL (GOLDLOOP_URL).")
    parser.add_argument("--key", default=os.environ.get("GOLDLOOP_API_KEY"), help="API key (GOLDLOOP_API_KEY).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    evaluation = commands.add_parser("eval", help="Regression runs.")
    actions = evaluation.add_subparsers(dest="action", required=True, parser_class=_Parser)
    run = actions.add_parser("run", help="Run a candidate's outputs against a pinned dataset version.")
    run.add_argument("--dataset", required=True, help="name@ref: ref is a version number, a tag or latest.")
    run.add_argument("--outputs", required=True, help='JSONL: one {"example_id", "output"} per line.')
    run.add_argument("--split", choices=["train", "validation", "test"])
    run.add_argument("--baseline", help="A run id or a baseline tag (e.g. prod).")
    run.add_argument("--scorer", action="append", default=[], help="exact, semantic:0.85, regex:PATTERN, ...")
    run.add_argument("--gate", action="append", default=[], help="'semantic.pass_rate>=0.9', 'regressions<=3'")
    run.add_argument("--junit", help="Write JUnit XML here.")
    run.add_argument("--no-feed-regressions", action="store_true", help="Keep regressions out of the review queue.")
    run.add_argument("--name")
    run.add_argument("--model")
    run.add_argument("--prompt-version")
    run.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for the verdict.")
    run.add_argument("--poll", type=float, default=1.0, help=argparse.SUPPRESS)
    return parser


class Progress:
    """A one-line progress bar on stderr (a plain line per phase when stderr is not a terminal)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.phase, self.shown = None, -1

    def __call__(self, phase: str, fraction: float) -> None:
        percent = int(max(0.0, min(1.0, fraction or 0.0)) * 100)
        if self.tty:
            bar = "#" * (percent // 4) + "." * (25 - percent // 4)
            self.stream.write(f"\r{phase:<8} [{bar}] {percent:3d}%")
        elif phase != self.phase or percent >= self.shown + 25:
            self.stream.write(f"{phase} {percent}%\n")
            self.shown = percent
        self.phase = phase
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")


def _cell(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if digits < 0 else f"{value:.{digits}f}"
    return str(value)


def summary_table(run: dict) -> str:
    header = ["scorer", "n", "pass_rate", "ci95", "mean", "delta", "p_value", "regressions", "improvements"]
    rows = [header]
    for name, stats in run.get("scorers", {}).items():
        base = stats.get("baseline") or {}
        ci = stats.get("ci95")
        rows.append(
            [
                name,
                str(stats["n"]),
                _cell(stats["pass_rate"]),
                f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-",
                _cell(stats["mean"]),
                "-" if base.get("delta") is None else f"{base['delta']:+.3f}",
                "-" if base.get("p_value") is None else f"{base['p_value']:.3g}",
                _cell(base.get("regressions")),
                _cell(base.get("improvements")),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def report(result: EvalResult, *, dataset: str, out=None) -> None:
    out = out or sys.stdout
    run = result.run
    version = run["version"]
    out.write(
        f"Run {run['id']} on {dataset} v{version['number']} ({version['sha256'][:12]})"
        + (f", split {run['split']}" if run.get("split") else "")
        + (f", baseline run {run['baseline']}" if run.get("baseline") else "")
        + f": {run['counts'].get('examples', 0)} examples, {run['counts'].get('missing', 0)} without output\n\n"
    )
    out.write(summary_table(run) + "\n\n")
    if run.get("baseline"):
        out.write(f"Regressed examples ({len(result.regressed)}):\n")
        for row in result.regressed:
            out.write(f"  {row['example_id']}  ({', '.join(row['regressed'])})\n")
        if not result.regressed:
            out.write("  none\n")
        out.write("\n")
    verdict = run.get("verdict") or {}
    out.write(f"Verdict: {verdict.get('result', 'pass').upper()}\n")
    for reason in verdict.get("reasons", []):
        out.write(f"  - {reason}\n")


def _split_dataset(text: str) -> tuple[str, str]:
    name, _, ref = text.partition("@")
    if not name:
        raise UsageError("--dataset is name@ref, e.g. support-answers@prod.")
    return name, ref or "latest"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    progress = Progress()
    try:
        dataset, ref = _split_dataset(args.dataset)
        gates = [parse_gate(text) for text in args.gate]
        scorers = [parse_scorer(text) for text in args.scorer] or None
        outputs = read_outputs(args.outputs)
        client = Client(args.url or "", args.key or "")
        result = evaluate(
            client,
            dataset=dataset,
            ref=ref,
            outputs=outputs,
            split=args.split,
            baseline=args.baseline,
            scorers=scorers,
            gates=gates,
            feed_regressions=not args.no_feed_regressions,
            name=args.name,
            model=args.model,
            prompt_version=args.prompt_version,
            timeout=args.timeout,
            poll=args.poll,
            on_progress=progress,
        )
    except UsageError as exc:
        progress.done()
        sys.stderr.write(f"goldloop: error: {exc}\n")
        return EXIT_ERROR
    except GoldloopError as exc:
        progress.done()
        sys.stderr.write(f"goldloop: {exc}\n")
        return EXIT_ERROR
    progress.done()
    for rejected in result.rejected:
        error = rejected.get("error", {})
        sys.stderr.write(f"goldloop: output for {rejected['example_id']!r} refused: {error.get('message')}\n")
    report(result, dataset=dataset)
    if args.junit:
        Path(args.junit).write_bytes(junit_xml(result, dataset=dataset))
    return EXIT_PASS if result.passed else EXIT_GATE_FAILED


if __name__ == "__main__":
    sys.exit(main())
