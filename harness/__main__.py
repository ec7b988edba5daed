"""Command line: ``python -m harness report <results dir>`` rebuilds the comparison report."""

from __future__ import annotations

import argparse
import sys

from harness.analysis import DEFAULT_REFERENCE, DEFAULT_TARGET_FRACTION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="build report.md, report.html, summary.csv and plots from stored runs")
    rep.add_argument("results_dir", help="the results folder (e.g. results)")
    rep.add_argument("--benchmark", help="only this benchmark's runs")
    rep.add_argument("--reference", default=DEFAULT_REFERENCE, help="strategy the others are tested against")
    rep.add_argument("--target-fraction", type=float, default=DEFAULT_TARGET_FRACTION,
                     help="time-to-target threshold as a fraction of the best accuracy reached")
    rep.add_argument("--target", type=float, default=None, help="an absolute target accuracy instead")
    rep.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)

    from harness.analysis import analyse
    from harness.report import short_table, write_report
    from harness.store import ResultStore

    try:
        records = ResultStore(args.results_dir).load_runs(args.benchmark)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not records:
        print(f"error: no run records under {args.results_dir}", file=sys.stderr)
        return 2
    analysis = analyse(records, args.reference, args.target_fraction, args.target, args.alpha)
    written = write_report(analysis, args.results_dir)
    print(short_table(analysis), end="")
    print(f"written: {', '.join(written)} in {args.results_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
