"""The one table writer: the terminal, Markdown and CSV forms of the comparison agree, and reruns replace runs."""

import csv
import io

from harness.evaluate.summary import analyse
from harness.core.records import latest_per_seed
from harness.report.document import write_report
from harness.report.tables import markdown_table, short_table, sorted_rows, summary_csv

from tests.test_store import make_record


def test_the_newest_run_of_a_seed_replaces_older_ones():
    older = make_record(seed=2, best=0.70)
    rerun = make_record(seed=2, best=0.95, started_at="2026-11-24T10:00:00.000+00:00")
    kept = latest_per_seed([make_record(seed=0), older, rerun, make_record(seed=0, strategy="grid")])
    assert rerun in kept and older not in kept and len(kept) == 3


def test_mean_and_sd_over_seeds():
    records = [make_record(seed=0, best=0.90), make_record(seed=1, best=0.80), make_record(seed=2, best=0.70),
               make_record(seed=2, best=0.95, started_at="2026-11-24T10:00:00.000+00:00"), make_record(seed=0, strategy="grid", best=0.5)]
    rows = {r.strategy: r for r in analyse(records, reference="asha").rows}
    assert rows["asha"].seeds == (0, 1, 2)
    assert round(rows["asha"].best_val_acc.mean, 6) == round((0.90 + 0.80 + 0.95) / 3, 6)
    assert round(rows["asha"].best_val_acc.sd, 6) == 0.076376  # sample sd of 0.90, 0.80, 0.95
    assert rows["grid"].best_val_acc.sd is None


def test_renderings_agree():
    a = analyse([make_record(seed=0, best=0.9), make_record(seed=1, best=0.8), make_record(strategy="grid")], reference="asha")
    text, md = short_table(a), "\n".join(markdown_table(sorted_rows(a)))
    assert "0.8500 ± 0.0707" in text and "0.9000 (1 seed)" in text
    assert "| digits | asha | 2 | 0.8500 [" in md and "| digits | grid | 1 | 0.9000 (1 seed) |" in md
    rows = {r["strategy"]: r for r in csv.DictReader(io.StringIO(summary_csv(sorted_rows(a))))}
    assert float(rows["asha"]["best_val_acc_mean"]) == 0.85 and rows["asha"]["n_seeds"] == "2"
    assert rows["grid"]["best_val_acc_ci_low"] == ""  # no interval from one seed: empty, not NaN


def test_write_report_writes_each_benchmarks_comparison_from_the_same_rows(tmp_path):
    other = [make_record(seed=s, best=0.8) for s in (0, 1)]
    other = [r.__class__(**{**r.__dict__, "benchmark": "fashion"}) for r in other]
    a = analyse([make_record(seed=0), make_record(seed=1, best=0.7)] + other, reference="asha")
    written = write_report(a, tmp_path)
    assert {"digits/comparison.md", "digits/comparison.csv", "fashion/comparison.md", "report.md"} <= set(written)
    digits = (tmp_path / "digits" / "comparison.md").read_text()
    assert "| digits | asha | 2 |" in digits and "fashion" not in digits
    assert (tmp_path / "fashion" / "comparison.csv").read_text().count("\n") == 2
    assert digits.splitlines()[2] in (tmp_path / "report.md").read_text()  # the same row in both
