"""The command-line front door (``python -m harness``); every command drives a :class:`harness.session.Session`.

* ``python -m harness report RESULTS``: rebuild the comparison report from stored runs.
* ``python -m harness record-table BENCHMARK --out FILE``: record a learning-curve table.
* ``python -m harness record-design BENCHMARK --size N --parts K``: record a design over the live space.
* ``python -m harness surrogate-fidelity BENCHMARK``: how well a surrogate fitted on its design predicts held-out curves.
* ``python -m harness new NAME``: a starting benchmark for your own problem (a training function to fill in).
* ``python -m harness gate --baseline FILE``: stored runs against a baseline; exit 1 on a regression.
* ``python -m harness baseline --out FILE``: store the newest runs as a baseline.
* ``python -m harness agreement LIVE REPLAY``: Kendall's tau between two benchmarks' strategy rankings.

Exit codes: 0 fine, 1 the gate found a regression, 2 bad input (named on stderr).
"""

from __future__ import annotations

import argparse
import sys

from harness.evaluate.stats import ALPHA
from harness.evaluate.summary import DEFAULT_REFERENCE, DEFAULT_TARGET_FRACTION
from harness.gate import DEFAULT_RULES
from harness.core.errors import ConfigError, SessionHalted
from harness.fronts.record_design import DESIGN_SUFFIX
from harness.fronts.record_table import SWEEP_SUFFIX


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="build report.md, report.html, summary.csv and plots from stored runs")
    rep.add_argument("results_dir", help="the results folder (e.g. results)")
    rep.add_argument("--benchmark", help="only this benchmark's runs")
    rep.add_argument("--reference", default=DEFAULT_REFERENCE, help="strategy the others are tested against")
    rep.add_argument("--target-fraction", type=float, default=DEFAULT_TARGET_FRACTION,
                     help="time-to-target threshold as a fraction of the best accuracy reached")
    rep.add_argument("--target", type=float, default=None, help="an absolute target accuracy instead")
    rep.add_argument("--alpha", type=float, default=ALPHA)

    rec = sub.add_parser("record-table", help="sweep a live benchmark's TABLE_LEVELS and write a learning-curve table")
    rec.add_argument("benchmark", help="benchmark module, e.g. benchmarks/test_digits.py")
    rec.add_argument("--out", required=True, help="table file to write, e.g. datasets/tables/digits.npz")
    rec.add_argument("--seeds", type=int, nargs="+", default=[0],
                     help="one independent sweep (table repeat) per seed (default 0); e.g. --seeds $(seq 0 19)")
    rec.add_argument("--concurrency", type=int, default=1, help="trials trained at once (default 1)")
    rec.add_argument("--results-dir", default="results", help="where the sweeps' run records go")
    rec.add_argument("--force", action="store_true", help="replace an existing table file")
    rec.add_argument("--fresh", action="store_true",
                     help="train every seed again instead of reusing finished sweeps stored under --results-dir "
                          "(by default a killed recording, rerun, continues where it stopped)")

    _design_parser(sub)
    _new_parser(sub)
    gate = sub.add_parser("gate", help="compare stored runs with a baseline; exit 1 on a significant regression")
    gate.add_argument("--baseline", required=True, help="baseline file, e.g. results/baselines/digits_replay.json")
    gate.add_argument("--results-dir", default="results")
    gate.add_argument("--benchmark", help="only this benchmark's runs (default: the baseline's benchmarks)")
    gate.add_argument("--rule", action="append", default=None, metavar="METRIC:TOL",
                      help=f"repeatable; default {' '.join(DEFAULT_RULES)}".replace("%", "%%"))  # argparse formats help with %
    gate.add_argument("--alpha", type=float, default=ALPHA)

    base = sub.add_parser("baseline", help="store the newest run per benchmark, strategy and seed as a baseline")
    base.add_argument("--out", required=True)
    base.add_argument("--results-dir", default="results")
    base.add_argument("--benchmark", required=True)

    agree = sub.add_parser("agreement", help="Kendall's tau between the strategy rankings of two benchmarks")
    agree.add_argument("live", help="e.g. digits")
    agree.add_argument("replay", help="e.g. digits_replay")
    agree.add_argument("--results-dir", default="results")
    return parser


def _new_parser(sub) -> None:
    new = sub.add_parser("new", help="write a starting benchmark for your own problem: NAME/train.py (a training "
                                     "function to fill in) and benchmarks/test_NAME.py")
    new.add_argument("name", help="a lower-case Python name, e.g. churn")
    new.add_argument("--where", default=".", help="your repository's root (default: here)")


def _design_parser(sub) -> None:
    des = sub.add_parser("record-design", help="train a space-filling design over a live benchmark's search space "
                                                "(the grid's points, then Sobol), for a surrogate replay")
    des.add_argument("benchmark", help="benchmark module, e.g. benchmarks/test_mnist1d.py")
    des.add_argument("--size", type=int, default=480, help="configurations in the design (default 480)")
    des.add_argument("--parts", type=int, default=10,
                     help="part i (configurations i, i+parts, ...) trains under seed i; each part is stored as it ends "
                          "and reused when the command runs again (default 10)")
    des.add_argument("--concurrency", type=int, default=1, help="trials trained at once (default 1)")
    des.add_argument("--design-seed", type=int, default=0, help="the Sobol sequence's scrambling seed (default 0)")
    des.add_argument("--results-dir", default="results", help="where the parts' run records go")
    des.add_argument("--out", help="then write every stored part's curves as one design file, e.g. "
                                   "datasets/tables/mnist1d_design.npz")
    fid = sub.add_parser("surrogate-fidelity", help="fit the whole-curve surrogate on a benchmark's recorded design and "
                                                    "measure it on held-out parts (seeds)")
    fid.add_argument("benchmark", help="benchmark module, e.g. benchmarks/test_mnist1d.py")
    fid.add_argument("--results-dir", default="results", help="where record-design stored the parts")
    fid.add_argument("--size", type=int, default=480, help="the design's size, as recorded (default 480)")
    fid.add_argument("--parts", type=int, default=10, help="its parts, as recorded (default 10)")
    fid.add_argument("--design-seed", type=int, default=0, help="its Sobol seed, as recorded (default 0)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"report": _report, "record-table": _record, "record-design": _design, "surrogate-fidelity": _fidelity,
                "new": _new, "gate": _gate, "baseline": _baseline, "agreement": _agreement}[args.command](args)
    except (ConfigError, SessionHalted) as exc:  # bad input; or the cluster's head lost, the results folder full
        print(f"error: {exc}", file=sys.stderr)
        if "ray" in sys.modules:
            from harness.run.ray_session import shutdown

            shutdown()  # after a lost head, exits at once (Ray would wait a minute for it)
        return 2


def _load(results_dir: str, benchmark: str | None):
    from harness.core.store import ResultStore

    try:
        records = ResultStore(results_dir).load_runs(benchmark)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    # a table's sweeps and a design's parts are recordings, not a benchmark's runs
    records = [r for r in records if not r.benchmark.endswith((SWEEP_SUFFIX, DESIGN_SUFFIX))]
    if not records:
        raise ConfigError(f"no run records under {results_dir}" + (f" for {benchmark}" if benchmark else ""))
    return records


def _session(**options):
    from harness.session import Options, Session

    return Session(Options(**options))


def _report(args) -> int:
    from harness.report import terminal

    session = _session(results_dir=args.results_dir, reference=args.reference, target_fraction=args.target_fraction,
                       target=args.target, alpha=args.alpha)
    session.records = _load(args.results_dir, args.benchmark)
    finished = session.finish()
    for _, text in terminal.summary_sections(finished, session.records, args.results_dir, False):
        print(text, end="")
    return 0


def _record(args) -> int:
    from harness.fronts.record_table import record_table

    table = record_table(args.benchmark, args.out, args.seeds, args.concurrency, args.results_dir, overwrite=args.force,
                         resume=not args.fresh)
    print(f"written: {args.out} ({table.n_configs} configurations x {table.n_repeats} repeats x {table.max_epochs} epochs, "
          f"fingerprint {table.fingerprint})")
    return 0


def _design(args) -> int:
    from harness.fronts.record_design import record_design, write_design

    records = record_design(args.benchmark, args.size, args.parts, args.concurrency, args.design_seed, args.results_dir)
    trained = sum(len(r.trials) for r in records)
    print(f"recorded: {trained} configurations in {len(records)} parts under {args.results_dir}")
    if args.out:
        command = (f"python -m harness record-design {args.benchmark} --size {args.size} --parts {args.parts} "
                   f"--design-seed {args.design_seed} --out {args.out}")
        print(f"written: {args.out} ({write_design(args.benchmark, records, args.out, command)} whole curves)")
    return 0


def _fidelity(args) -> int:
    from harness.fronts.record_design import stored_design
    from harness.fronts.record_table import load_benchmark
    from harness.run.replay.surrogate import Design, fidelity

    problem = load_benchmark(args.benchmark).PROBLEM
    records = stored_design(args.benchmark, args.size, args.parts, args.design_seed, args.results_dir)
    if len(records) < 2:
        raise ConfigError(f"surrogate-fidelity: {len(records)} design part(s) stored for {problem.name}; "
                          f"held-out parts need at least 2 (python -m harness record-design {args.benchmark})")
    design = Design.from_records(problem.space, records)
    print(f"{problem.name}: {len(design.configs)} recorded configurations in {len(records)} parts (seeds)")
    for model, noisy in (("forest", False), ("forest", True), ("nearest", False)):
        print(fidelity(design, model, noisy=noisy).text())
    return 0


def _new(args) -> int:
    from harness.fronts.scaffold import new

    for path in new(args.name, args.where):
        print(f"written: {path}")
    print(f"run it: pytest benchmarks -k {args.name}   (then replace the made-up curve in {args.name}/train.py)")
    return 0


def _gate(args) -> int:
    from harness.gate import load_baseline

    benchmarks = [args.benchmark] if args.benchmark else sorted({e["benchmark"] for e in load_baseline(args.baseline)["runs"]})
    session = _session(results_dir=args.results_dir, gate=args.baseline, gate_rules=tuple(args.rule) if args.rule else None,
                       alpha=args.alpha)
    session.records = [r for b in benchmarks for r in _load(args.results_dir, b)]
    finished = session.finish(report=False)
    if finished.gate_error:
        raise ConfigError(finished.gate_error)
    print(finished.gate.report(), end="")
    return 0 if finished.gate.passed else 1


def _baseline(args) -> int:
    session = _session(results_dir=args.results_dir, save_baseline=args.out)
    session.records = _load(args.results_dir, args.benchmark)
    print(f"written: {session.finish(report=False).baseline}")
    return 0


def _agreement(args) -> int:
    from harness.evaluate.agreement import agreement

    try:
        result = agreement(_load(args.results_dir, args.live), _load(args.results_dir, args.replay))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    print(result.text(args.live, args.replay), end="")
    return 0
