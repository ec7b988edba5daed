import json
import os

import pytest

from harness.core.records import COMPLETED, EpochRecord, RunRecord, TrialRecord
from harness.core.store import ResultStore, write_atomic


def make_record(seed=0, strategy="asha", started_at="2026-11-23T10:00:00.000+00:00", best=0.9, run_id=None):
    epochs = (EpochRecord(1, best - 0.1, 0.5, 0.6, 0.1, 1.0), EpochRecord(2, best, 0.4, 0.5, 0.1, 1.2))
    trial = TrialRecord("t1", {"lr": 0.01}, "TERMINATED", COMPLETED, epochs)
    return RunRecord(
        run_id=run_id or f"{strategy}{seed}{started_at}".replace(":", ""),
        benchmark="digits", strategy=strategy, seed=seed, budget={"max_epochs": 2}, started_at=started_at,
        wallclock_s=3.0, best_val_acc=best, best_config={"lr": 0.01}, best_trial_id="t1", epochs_used=2,
        epochs_full=2, compute_saved=0.0, train_s=0.2, overhead_s_per_trial=2.8, trials=(trial,),
        provenance={"git_commit": "abc"},
    )


def test_round_trip(tmp_path):
    store = ResultStore(tmp_path)
    record = make_record()
    path = store.save(record)
    assert path.parent == tmp_path / "digits" / "runs" / "asha" and path.name.startswith("seed0-")
    assert store.load_runs("digits") == [record]


def test_a_finished_run_is_never_overwritten(tmp_path):
    store = ResultStore(tmp_path)
    record = make_record()
    path = store.save(record)
    before = path.read_text()
    with pytest.raises(FileExistsError):
        store.save(record)
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_interrupted_write_leaves_old_runs_and_no_partial_file(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    kept = store.save(make_record(seed=0))

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "link", crash)
    with pytest.raises(KeyboardInterrupt):
        store.save(make_record(seed=1))
    monkeypatch.undo()
    assert sorted(p.name for p in kept.parent.iterdir()) == [kept.name]
    assert [r.seed for r in store.load_runs()] == [0]


def test_leftover_temporary_files_are_ignored_and_bad_records_named(tmp_path):
    store = ResultStore(tmp_path)
    path = store.save(make_record())
    (path.parent / ".seed1-x.json.abc.tmp").write_text("{trunc")
    assert len(store.load_runs()) == 1
    bad = path.parent / "seed9-broken.json"
    bad.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ValueError, match="seed9-broken.json"):
        store.load_runs()


def test_tables_are_replaced_atomically(tmp_path):
    write_atomic(tmp_path / "t.md", "one", overwrite=True)
    write_atomic(tmp_path / "t.md", "two", overwrite=True)
    assert (tmp_path / "t.md").read_text() == "two" and len(list(tmp_path.iterdir())) == 1
