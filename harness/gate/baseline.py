"""Gate baselines: the stored file (format, save, load) and the identity a session's runs must share with it.

Like with like: a baseline recorded from another table, budget, clock or benchmark is refused
(:class:`GateMismatch`), since paired seeds would then compare different experiments.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterable

from harness.core.errors import ConfigError
from harness.core.records import RunRecord, latest_per_seed
from harness.gate.rules import METRICS

FORMAT = "tuning-bench/baseline"
VERSION = 2  # version 1 called best_val_acc "best_acc"; it still loads


class GateMismatch(ConfigError):
    """The session's runs and the baseline are not the same experiment: a one-line refusal."""



# -- baselines ----------------------------------------------------------------------------------------
def baseline_from_records(records: Iterable[RunRecord]) -> dict:
    """A baseline: every run's gated metrics, keyed by benchmark, strategy and seed, plus provenance."""
    from harness.core import provenance

    runs = sorted(latest_per_seed(list(records)), key=lambda r: (r.benchmark, r.strategy, r.seed))
    if not runs:
        raise ConfigError("baseline: no runs to store")
    static = provenance.collect()
    return {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "provenance": {k: static.get(k) for k in ("git_commit", "git_dirty", "device", "versions")},
        "runs": [
            {
                "benchmark": r.benchmark, "strategy": r.strategy, "seed": r.seed, "clock": r.clock,
                "budget": r.budget, "table": r.table_fingerprint,
                "metrics": {m: get(r) for m, (get, _) in METRICS.items()},
            }
            for r in runs
        ],
    }


def save_baseline(records: Iterable[RunRecord], path: str | Path) -> Path:
    from harness.core.store import write_atomic

    # Replacing a baseline is deliberate (that is how one accepts a change), so it may overwrite.
    return write_atomic(Path(path), json.dumps(baseline_from_records(records), indent=1, sort_keys=True), overwrite=True)


def load_baseline(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"gate: no baseline at {path} (write one with --save-baseline)") from None
    except ValueError as exc:
        raise ConfigError(f"gate: baseline {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") not in (1, VERSION):
        raise ConfigError(f"gate: {path} is not a version-1 or -{VERSION} baseline file")
    if data["version"] == 1:
        for entry in data["runs"]:
            entry["metrics"]["best_val_acc"] = entry["metrics"].pop("best_acc", None)
    return data


# -- like with like ------------------------------------------------------------------------------------
IDENTITY = ("clock", "table", "budget")  # what must match, per benchmark, for seeds to pair


def identity(benchmark: str, clock: str, table: str | None, budget: dict) -> dict:
    """What a run was run on, as the baseline stores it."""
    return {"benchmark": benchmark, "clock": clock, "table": table, "budget": dict(budget)}


def record_identity(r: RunRecord) -> dict:
    return identity(r.benchmark, r.clock, r.table_fingerprint, r.budget)


def check_like_with_like(session: list[dict], baseline: dict, where: str = "the baseline") -> None:
    """Raise :class:`GateMismatch` naming the first difference between the session's experiments and the baseline's.

    Every run counts, not one per benchmark: runs of one benchmark that mix budgets (say, the newest run
    of some seeds from a ``--budget`` session) are refused too.
    """
    base: dict[str, list[dict]] = {}
    for entry in baseline["runs"]:
        ident = identity(entry["benchmark"], entry.get("clock"), entry.get("table"), entry["budget"])
        if ident not in base.setdefault(entry["benchmark"], []):
            base[entry["benchmark"]].append(ident)
    mine: dict[str, list[dict]] = {}
    for ident in session:
        if ident not in mine.setdefault(ident["benchmark"], []):
            mine[ident["benchmark"]].append(ident)
    for bench, idents in sorted(mine.items()):
        if bench not in base:
            raise GateMismatch(f"gate: benchmark {bench} is not in {where} (it holds {', '.join(sorted(base))}); "
                               f"gate it against its own baseline, or deselect it")
        for source, found in (("this session's runs", idents), (where, base[bench])):
            if len(found) > 1:
                raise GateMismatch(f"gate: {bench}: {source} mix experiments ({_difference(found[0], found[1], 'another run')}); "
                                   f"gate runs of one budget and table")
        difference = _difference(idents[0], base[bench][0], f"{where}'s")
        if difference:
            raise GateMismatch(f"gate: {bench}: {difference}; compare like with like, or accept the change with --save-baseline")


def _difference(mine: dict, theirs: dict, whose: str) -> str:
    """The first way two run identities differ, in words ('' when they do not)."""
    for key in IDENTITY:
        a, b = mine[key], theirs[key]
        if key == "budget":
            a = {k: v for k, v in a.items() if k != "gpus_per_trial_resolved"}
            b = {k: v for k, v in b.items() if k != "gpus_per_trial_resolved"}
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            if diff:
                return f"the budget differs from {whose}: " + ", ".join(f"{k}={a.get(k)} (baseline {b.get(k)})" for k in diff)
        elif a != b:
            return f"{'table fingerprint' if key == 'table' else key} {a} differs from {whose} {b}"
    return ""

