"""The report renders from a small recorded results folder; edge cases give statements, never NaN."""

import re
import struct

import pytest

from harness.evaluate import curves
from harness.fronts.cli import main
from harness.evaluate.summary import analyse
from harness.core.records import COMPLETED, FAILED, EpochRecord, RunRecord, TrialRecord
from harness.report.document import markdown, write_report
from harness.report.tables import short_table, sorted_rows, summary_csv
from harness.core.store import ResultStore


def run(strategy, seed, accs, benchmark="digits", saved=0.0, failed=False, test=None, clock="real"):
    """A run whose single trial climbs through ``accs``, one epoch a second."""
    epochs = tuple(EpochRecord(i + 1, a, 0.1, 0.1, 1.0, float(i + 1)) for i, a in enumerate(accs))
    trial = TrialRecord("t", {"lr": 0.01}, "ERROR" if failed else "TERMINATED", FAILED if failed else COMPLETED, () if failed else epochs)
    return RunRecord(
        run_id=f"{benchmark}{strategy}{seed}", benchmark=benchmark, strategy=strategy, seed=seed,
        budget={"max_epochs": 4, "num_trials": 1, "max_concurrent_trials": 1}, started_at=f"2026-11-23T10:00:{seed:02d}",
        wallclock_s=float(len(accs)), best_val_acc=None if failed else max(accs), best_config=None if failed else {"lr": 0.01},
        best_trial_id=None if failed else "t", epochs_used=0 if failed else len(accs), epochs_full=4, compute_saved=saved,
        train_s=float(len(accs)), overhead_s_per_trial=0.0, trials=(trial,), provenance={"git_commit": "abc", "device": "cpu"},
        test_acc=None if failed else (test if test is not None else max(accs) - 0.02), clock=clock,
        best_epoch=None if failed else accs.index(max(accs)) + 1,
    )


def three_strategies(seeds=7):
    out = []
    for s in range(seeds):
        out.append(run("random", s, [0.5, 0.7, 0.8, 0.80 + s / 1000]))
        out.append(run("asha", s, [0.6, 0.85, 0.9 + s / 1000], saved=0.25))  # better on every seed
        out.append(run("grid", s, [0.4, 0.6, 0.7, 0.70 + s / 1000]))  # worse on every seed
    return out


def test_curves_time_to_target_and_auc():
    r = run("random", 0, [0.5, 0.7, 0.8, 0.8])
    assert [p.best for p in curves.best_so_far(r)] == [0.5, 0.7, 0.8, 0.8]
    assert curves.time_to_target(r, 0.7) == (2.0, 2) and curves.time_to_target(r, 0.95) == (None, None)
    assert curves.auc(r) == pytest.approx((0 + 0.5 + 0.7 + 0.8) / 4)  # best-so-far is 0 until the first epoch ends
    short = run("asha", 0, [0.6, 0.9])  # stops after 2 of 4 budget epochs and keeps its best
    assert curves.auc(short) == pytest.approx((0 + 0.6 + 0.9 + 0.9) / 4)


def test_significance_against_the_reference():
    a = analyse(three_strategies())
    by = {r.strategy: r for r in a.rows}
    assert by["asha"].versus.verdict == "better" and by["grid"].versus.verdict == "worse"
    assert by["asha"].versus.a12 == 1.0 and by["random"].versus.verdict == "reference"
    assert by["asha"].avg_rank == 1.0 and by["grid"].avg_rank == 3.0
    [om] = a.omnibus
    assert om.friedman_p < 0.05 and om.cd == pytest.approx(2.343 * (12 / 42) ** 0.5, abs=1e-3)


def test_holm_correction_is_applied():
    a = analyse(three_strategies())
    by = {r.strategy: r.versus for r in a.rows}
    # both comparisons have p = 2/2^7; Holm multiplies the smaller by 2 and keeps the order monotone
    assert by["asha"].p_raw == pytest.approx(1 / 64) and by["asha"].p_holm == pytest.approx(2 / 64)
    # with 6 seeds the same data cannot be significant after correction (2 x 1/32 > 0.05): that is
    # "too few seeds", not "no significant difference"
    six = {r.strategy: r.versus for r in analyse(three_strategies(6)).rows}
    assert six["asha"].p_holm == pytest.approx(2 / 32)
    assert six["asha"].verdict == "too few seeds to test (6 of 6 differ; Holm over 2 comparisons needs 7)"


def test_report_renders_from_a_results_folder(tmp_path):
    store = ResultStore(tmp_path)
    for r in three_strategies():
        store.save(r)
    assert main(["report", str(tmp_path)]) == 0
    for name in ("report.md", "report.html", "summary.csv"):
        assert (tmp_path / name).stat().st_size > 200
    pngs = sorted((tmp_path / "plots").glob("*.png"))
    assert [p.name for p in pngs] == [
        "anytime_digits.png", "critical-difference-real.png", "digits-accuracy-vs-compute.png", "digits-best-vs-epochs.png",
        "digits-best-vs-wallclock.png", "digits-time-split.png",
    ]
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert 400 <= width <= 2000 and 150 <= height <= 1500 and len(data) > 10_000
    page = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in page and page.count("<img") == 6
    assert "http://" not in page and "https://" not in page and "<script" not in page and "<link" not in page
    md = (tmp_path / "report.md").read_text()
    assert "| digits | asha | 7 |" in md and "better (Holm p=0.0312, A12=1.00)" in md and "](plots/" in md and "commit abc" in md


def test_main_reports_bad_folders(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no run records" in capsys.readouterr().err


@pytest.mark.parametrize(
    "records, expected",
    [
        ([run("random", 0, [0.5, 0.8]), run("asha", 0, [0.6, 0.9])], "too few seeds to test (1 of 1 differ; Holm over 1 comparisons needs 6)"),
        ([run("asha", s, [0.6, 0.9]) for s in range(3)], "needs at least 3 strategies; there are 1"),
        ([run("random", s, [0.5, 0.8]) for s in range(8)] + [run("asha", s, [0.5, 0.8 + (s < 2) * 0.1]) for s in range(8)],
         "too few seeds to test (2 of 8 differ; Holm over 1 comparisons needs 6)"),
        ([run(n, s, [0.5, 0.8]) for n in ("random", "asha", "grid") for s in range(6)], "identical to the reference on every seed"),
        (three_strategies(3) + [run("hyperband", 0, [], failed=True)], "1 failed"),
        ([r for r in three_strategies() if not (r.strategy == "grid" and r.seed == 5)], "grid has no run for seed(s) [5]"),
    ],
    ids=["single-seed", "single-strategy", "mostly-tied", "ties", "failed-run", "missing-seed"],
)
def test_edge_cases_give_statements_not_nan(records, expected):
    a = analyse(records)
    text = short_table(a) + markdown(a, []) + summary_csv(sorted_rows(a))
    assert expected in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)  # no NaN anywhere in the tables


def test_a_benchmark_where_every_run_failed_still_renders(tmp_path):
    a = analyse([run("random", 0, [], failed=True), run("asha", 0, [0.5, 0.6])])
    written = write_report(a, tmp_path)
    assert "report.html" in written and "n/a" in (tmp_path / "report.md").read_text()


def test_test_accuracy_is_compared_beside_validation_accuracy():
    # asha wins on validation accuracy (the score it maximised) but not on held-out test accuracy.
    records = []
    for s in range(8):
        records.append(run("random", s, [0.5, 0.8 + s / 1000], test=0.78 + s / 1000))
        records.append(run("asha", s, [0.6, 0.9 + s / 1000], test=0.78 + s / 1000))
        records.append(run("grid", s, [0.4, 0.7 + s / 1000], test=0.60 + s / 1000))
    a = analyse(records)
    by = {r.strategy: r for r in a.rows}
    assert by["asha"].versus.verdict == "better" and by["asha"].versus.metric == "best_val_acc"
    assert by["asha"].versus_test.verdict == "identical to the reference on every seed"
    assert by["grid"].versus_test.verdict == "worse" and by["grid"].versus_test.metric == "test_acc"
    assert by["grid"].test_acc.mean == pytest.approx(0.6035)
    md = markdown(a, [])
    assert "test acc (95% CI)" in md and "vs reference (test acc)" in md and "held-out test accuracy" in md
    assert "test_acc_mean" in summary_csv(sorted_rows(a)).splitlines()[0] and "test" in short_table(a)


def test_the_direction_comes_from_the_paired_differences():
    from tests.test_stats import FIFTEEN_AND_FIFTEEN

    x, y = FIFTEEN_AND_FIFTEEN  # fifteen tiny losses, fifteen large wins; A12 = 0.5 exactly
    records = [run("random", s, [y[s]]) for s in range(30)] + [run("asha", s, [x[s]]) for s in range(30)]
    v = {r.strategy: r for r in analyse(records).rows}["asha"].versus
    assert v.a12 == 0.5 and v.direction > 0 and v.verdict == "better"  # 93b1eb7 said "worse"


def test_live_runs_and_replays_get_one_omnibus_test_each():
    live = three_strategies(4)
    replay = [run(r.strategy, r.seed, [e.val_acc for e in r.trials[0].epochs], benchmark="digits_replay",
                  clock="simulated") for r in live]
    a = analyse(live + replay)
    assert [(om.clock, om.benchmarks, om.n_blocks) for om in a.omnibus] == [
        ("real", ("digits",), 4), ("simulated", ("digits_replay",), 4)]  # not 8 blocks of one problem
    assert all("Friedman" in om.statement for om in a.omnibus)


def test_the_clock_note_gives_the_searchers_seconds_and_says_which_runs_did_not_time_them():
    import dataclasses

    from harness.report.document import clock_notes

    timed = [dataclasses.replace(run("bayes", s, [0.5, 0.9]), decision_s=(1.0, 2.0 + s)) for s in range(2)]
    older = [dataclasses.replace(run("bayes", 2, [0.5, 0.9]), schema_version=5)]  # recorded before schema 6
    generator = [run("random", s, [0.5, 0.8]) for s in range(2)]  # schema 6, nothing timed: the variant generator
    hyperopt = [dataclasses.replace(run("hyperopt", 0, [0.5, 0.8]), schema_version=5)]
    [note] = clock_notes(timed + older + generator + hyperopt)
    # bayes: (3 + 4) / 2 = 3.5 s over the two runs that timed it, the third named apart
    assert "of them the searcher's own decisions, mean a run: bayes 3.5 s (2 of 3 runs; 1 recorded before decisions " \
           "were timed) (random: not timed, Ray's variant generator) (hyperopt: recorded before decisions were timed)" in note
    assert clock_notes(generator) == ["- digits: times are real seconds"]  # nothing timed: nothing claimed
