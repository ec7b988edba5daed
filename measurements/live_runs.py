"""The live MNIST-1D runs as data: pack the finished runs under results/ into one gzip'd JSON-lines file, or unpack it.

    python measurements/live_runs.py pack   [--results-dir results] [--out datasets/tables/mnist1d_live_runs.jsonl.gz]
    python measurements/live_runs.py unpack [--results-dir results] [--file datasets/tables/mnist1d_live_runs.jsonl.gz]

One run record a line (``RunRecord.to_dict``), ordered by strategy and seed. ``pack`` keeps the newest finished run of
each (strategy, seed) and writes to a temporary file that is then renamed; ``unpack`` stores every record that is not
already there (a stored run is never overwritten), so ``pytest benchmarks/test_mnist1d.py --resume`` skips them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

from harness.core.records import RunRecord
from harness.core.store import ResultStore

BENCHMARK = "mnist1d"
DEFAULT = Path(__file__).resolve().parent.parent / "datasets" / "tables" / "mnist1d_live_runs.jsonl.gz"


def pack(results_dir: str, out: Path) -> int:
    newest: dict[tuple[str, int], RunRecord] = {}
    for r in ResultStore(results_dir).load_runs(BENCHMARK):  # oldest first: a later run of a case replaces it
        newest[(r.strategy, r.seed)] = r
    problems = {r.problem_fingerprint for r in newest.values()}
    if len(problems) > 1:  # a changed problem or budget: its runs answer another question, never mixed in
        raise SystemExit(f"{results_dir}: the {BENCHMARK} runs hold {len(problems)} problems (fingerprints "
                         f"{sorted(map(str, problems))}); move the ones not meant to be packed elsewhere first")
    tmp = out.with_name(out.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as fh:
        for key in sorted(newest):
            fh.write(json.dumps(newest[key].to_dict(), sort_keys=True, allow_nan=False) + "\n")
    os.replace(tmp, out)
    return len(newest)


def unpack(results_dir: str, file: Path) -> tuple[int, int]:
    store, added, kept = ResultStore(results_dir), 0, 0
    with gzip.open(file, "rt", encoding="utf-8") as fh:
        records = [RunRecord.from_dict(json.loads(line)) for line in fh]
    for record in records:
        if store.run_path(record).exists():
            kept += 1
        else:
            store.save(record)
            added += 1
    return added, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["pack", "unpack"])
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--file", "--out", dest="file", type=Path, default=DEFAULT)
    args = parser.parse_args(argv)
    if args.action == "pack":
        print(f"{pack(args.results_dir, args.file)} runs -> {args.file} ({args.file.stat().st_size / 1e3:.0f} kB)")
    else:
        added, kept = unpack(args.results_dir, args.file)
        print(f"{added} runs stored under {args.results_dir}/{BENCHMARK}/runs, {kept} were already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
