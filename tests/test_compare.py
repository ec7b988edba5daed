from harness import compare

from tests.test_store import make_record


def test_mean_and_sd_over_seeds_with_latest_rerun_winning():
    records = [
        make_record(seed=0, best=0.90),
        make_record(seed=1, best=0.80),
        make_record(seed=2, best=0.70),
        make_record(seed=2, best=0.95, started_at="2026-11-24T10:00:00.000+00:00"),  # a rerun of seed 2
        make_record(seed=0, strategy="grid", best=0.5),
    ]
    rows = compare.rows(records)
    assert [r.strategy for r in rows] == ["asha", "grid"]
    asha = rows[0]
    assert asha.seeds == (0, 1, 2)
    assert round(asha.means["best_val_acc"], 6) == round((0.90 + 0.80 + 0.95) / 3, 6)
    assert round(asha.sds["best_val_acc"], 6) == 0.076376  # sample sd of 0.90, 0.80, 0.95
    assert rows[1].sds["best_val_acc"] is None


def test_renderings_agree():
    rows = compare.rows([make_record(seed=0, best=0.9), make_record(seed=1, best=0.8), make_record(strategy="grid")])
    md, text, csv = compare.to_markdown(rows), compare.to_text(rows), compare.to_csv(rows)
    assert "| digits | asha | 2 | 0.8500 ± 0.0707 |" in md
    assert "0.9000 (1 seed)" in md and "0.9000 (1 seed)" in text
    lines = {line.split(",")[1]: line for line in csv.splitlines()[1:]}
    assert [r.strategy for r in rows] == ["grid", "asha"]  # best mean accuracy first
    assert lines["asha"].startswith("digits,asha,2,0.85,0.0707107,")
    assert lines["grid"].split(",")[4] == ""  # no sd from one seed: empty, not NaN
