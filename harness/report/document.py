"""report.md and a self-contained report.html around the comparison table, and ``write_report``.

``write_report`` writes everything a session writes for people: report.md, report.html, summary.csv,
the plots, and each benchmark's comparison.md/.csv. A pytest session calls it on its own runs;
``python -m harness report RESULTS`` rebuilds it all from every stored run.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from harness.core.records import SIMULATED, TableRef
from harness.core.store import write_atomic
from harness.core.study import answers
from harness.evaluate import stats
from harness.evaluate.summary import Analysis, seeds_for_a_verdict
from harness.evaluate.verdict import verdict
from harness.report import plots
from harness.report.tables import cells, headers, markdown_table, sorted_rows, summary_csv


def markdown(analysis: Analysis, images: list[Path], hypotheses: dict[str, str] | None = None,
             verdict_lines: list[str] | None = None) -> str:
    lines = verdict(analysis) if verdict_lines is None else verdict_lines
    # A benchmark's first verdict line is an item; its further lines (indented) are items under it.
    out = ["# Tuning-strategy comparison", "", "## Verdict", ""] + [
        f"  - {line.strip()}" if line.startswith("  ") else f"- {line}" for line in lines] + [""]
    if hypotheses:
        out += ["## Hypotheses", ""] + [f"- {bench}: {text}" for bench, text in sorted(hypotheses.items())] + [""]
    out += _settings(analysis)
    out += ["## Comparison", ""] + markdown_table(sorted_rows(analysis))
    out += [""] + [f"**Omnibus:** {om.statement}." for om in analysis.omnibus] + [""]
    if analysis.notes:
        out += ["## Notes", ""] + [f"- {n}" for n in analysis.notes] + [""]
    out += ["## Plots", ""] + [f"![{p.stem}]({p.as_posix()})" for p in images] + [""]
    out += ["## Provenance", ""] + [f"- {line}" for line in _provenance(analysis)] + [""]
    return "\n".join(out)


def _settings(analysis: Analysis) -> list[str]:
    objectives = {r.benchmark: r.objective for r in analysis.runs}
    targets = ", ".join(f"{b}: {t:.4f}" if objectives[b].is_default else
                        f"{b}: {objectives[b].metric} {objectives[b].shown(t):.4g}"
                        for b, t in sorted(analysis.targets.items()) if b in objectives)
    budgets = sorted({f"{r.benchmark}: {_budget_text(r.budget)}" for r in analysis.runs})
    return [
        "## Settings",
        "",
        f"- runs: {len(analysis.runs)} (the newest run of each benchmark, strategy and seed)",
        f"- reference for paired tests: `{analysis.reference}`. Each strategy is compared with it twice, on best "
        f"validation accuracy (the score the search maximised, biased upward by how many configurations it saw) and on "
        f"held-out test accuracy (of the configuration it selected, at the epoch it selected it): a two-sided exact "
        f"Wilcoxon signed-rank test paired by seed (ties enumerated exactly), Holm-corrected over the strategies "
        f"compared on that metric; better/worse is the sign of the signed-rank statistic; effect size Vargha-Delaney A12",
        f"- significance level: {analysis.alpha}; CIs: 95% t intervals over seeds, their degrees of freedom reduced "
        f"for excess kurtosis {stats.EXCESS_KURTOSIS:g} (seed results have heavier tails than normal), on the log "
        f"scale for times (their centre is then the geometric mean) and clipped to [0, 1] for accuracies and shares, "
        f"so no interval leaves its quantity's range",
        "- error control: the verdict's claims (every benchmark's test-accuracy, compute-to-match and Friedman tests) "
        "form one Holm family, so the verdict's family-wise error is at most alpha; the table's tests hold per column",
        f"- with n differing seeds the exact test cannot go below p = 2/2^n, and Holm's first step over m comparisons "
        f"needs p < alpha/m: a comparison that could not reach significance even with every sign alike is reported as "
        f"too few seeds, not as no difference (with {len({r.strategy for r in analysis.rows})} strategies: "
        f"{seeds_for_a_verdict(len({r.strategy for r in analysis.rows}), analysis.alpha)} differing seeds)",
        "- omnibus: one Friedman test per clock (live runs and replays of a problem are never pooled as independent "
        "blocks), blocks = (benchmark, seed), on held-out test accuracy; average ranks too",
        "- time to target: a seed that never reached the target counts at its run's end (a lower bound), never dropped",
        f"- time to target: first time the best-so-far reaches the target ({analysis.target_fraction:g} x the best accuracy any strategy reached, or a declared metric that far on its worse side, unless set): {targets}",
        "- AUC: area under best-so-far accuracy over cumulative epochs, divided by the budget's epochs (num_trials x max_epochs)",
        *clock_notes(analysis.runs),
        *[f"- budget {b}" for b in budgets],
        "",
    ]


def clock_notes(runs) -> list[str]:
    """Which seconds each benchmark's times are: real, or simulated by a replay (and of which table); and what the
    searcher's own decisions cost, measured (harness.run.decisions)."""
    notes = []
    for bench in sorted({r.benchmark for r in runs}):
        mine = [r for r in runs if r.benchmark == bench]
        sim = [r for r in mine if r.clock == SIMULATED]
        if not sim:
            spent = _searcher_text(mine)
            notes.append(f"- {bench}: times are real seconds" + (f"; of them the searcher's own decisions, mean a "
                                                                  f"run: {spent}" if spent else ""))
            continue
        table = sim[0].table or TableRef(fingerprint=None)
        real = sum(r.real_s or 0.0 for r in sim)
        source = (f"a surrogate (fitted on {table.configs} configurations of {table.benchmark}'s live space"
                  if table.kind == "surrogate" else f"table {table.benchmark} ({table.configs} configurations")
        spent = _searcher_text(sim)
        notes.append(
            f"- {bench}: times are SIMULATED seconds, replayed from {source}, fingerprint {table.fingerprint}) on "
            f"max_concurrent_trials virtual workers; {len(sim)} replays took {real:.1f} real seconds. This clock "
            f"counts the recorded epochs only: the searcher's own decisions"
            + (f" (measured in these replays, mean a run: {spent})" if spent else "")
            + ", Ray's start-up and its per-trial overhead, which live runs pay on their clock, are not on it (they "
              "are real seconds of this machine: on the clock they would make two replays of a seed differ)"
            + (". Its seeds are not independent live seeds: they share the one forest fitted on the design and "
               "draw their noise from one pool of the design's recorded residuals, so intervals over them speak for "
               "the surrogate, and how far it stands for live tuning is measured apart (python -m harness agreement)"
               if table.kind == "surrogate" else "")
        )
    return notes


def _searcher_text(runs) -> str:
    """The searcher's mean real seconds a run, per strategy, over the runs that timed it: 'bayes 15.2 s, optuna-gp
    3.1 s (9 of 10 runs; 1 recorded before decisions were timed) (asha, random: not timed, Ray's variant generator)';
    empty when no run was timed."""
    per: dict[str, list[float]] = {}
    for r in runs:
        if r.searcher_s is not None:
            per.setdefault(r.strategy, []).append(r.searcher_s)
    if not per:
        return ""
    parts, means = [], {name: sum(v) / len(v) for name, v in per.items()}
    for name in sorted(means, key=lambda n: -means[n]):
        mine = [r for r in runs if r.strategy == name]
        older = len(mine) - len(per[name])
        parts.append(f"{name} {means[name]:.1f} s" + (
            f" ({len(per[name])} of {len(mine)} runs; {older} recorded before decisions were timed)" if older else ""))
    untimed = sorted({r.strategy for r in runs} - set(per))
    generator = [n for n in untimed if any(r.schema_version >= 6 for r in runs if r.strategy == n)]
    older = [n for n in untimed if n not in generator]
    return ", ".join(parts) + "".join(
        f" ({', '.join(names)}: {why})" for names, why in ((generator, "not timed, Ray's variant generator"),
                                                           (older, "recorded before decisions were timed")) if names)


def _budget_text(budget: dict) -> str:
    keys = ("max_epochs", "num_trials", "max_concurrent_trials", "cpus_per_trial", "gpus_per_trial_resolved", "wallclock_s")
    return ", ".join(f"{k}={budget.get(k)}" for k in keys if k in budget)


def _provenance(analysis: Analysis) -> list[str]:
    lines = set()
    for r in analysis.runs:
        p = r.provenance
        versions = ", ".join(f"{k} {v}" for k, v in sorted((p.get("versions") or {}).items()) if v)
        lines.add(
            f"commit {str(p.get('git_commit'))[:12]}{' (dirty)' if p.get('git_dirty') else ''}; device {p.get('device')}; "
            f"python {p.get('python')}; {versions}"
        )
    return sorted(lines)


def html_page(analysis: Analysis, images: list[Path], hypotheses: dict[str, str] | None = None,
              verdict_lines: list[str] | None = None) -> str:
    """One file that opens offline: inline CSS, plots embedded as data URIs, no external assets."""
    lines = verdict(analysis) if verdict_lines is None else verdict_lines
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells(r)) + "</tr>" for r in sorted_rows(analysis))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers(analysis.rows))
    settings = "".join(f"<li>{html.escape(line[2:])}</li>" for line in _settings(analysis) if line.startswith("- "))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in analysis.notes)
    figures = "".join(
        f'<figure><img alt="{html.escape(p.stem)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        f"<figcaption>{html.escape(p.stem)}</figcaption></figure>"
        for p in images
    )
    prov = "".join(f"<li>{html.escape(line)}</li>" for line in _provenance(analysis))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tuning-strategy comparison</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
th {{ background: #f3f3f3; }} tr:nth-child(even) {{ background: #fafafa; }}
figure {{ display: inline-block; margin: 1em; }} img {{ max-width: 760px; }}
</style></head><body>
<h1>Tuning-strategy comparison</h1>
<h2>Verdict</h2><ul>{"".join(f"<li>{html.escape(line)}</li>" for line in lines)}</ul>
{_hypotheses_html(hypotheses)}
<h2>Comparison</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
{"".join(f"<p><strong>Omnibus:</strong> {html.escape(om.statement)}.</p>" for om in analysis.omnibus)}
<h2>Settings</h2><ul>{settings}</ul>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Plots</h2>{figures}
<h2>Provenance</h2><ul>{prov}</ul>
</body></html>
"""


def _hypotheses_html(hypotheses: dict[str, str] | None) -> str:
    if not hypotheses:
        return ""
    items = "".join(f"<li>{html.escape(bench)}: {html.escape(text.replace('**', ''))}</li>" for bench, text in sorted(hypotheses.items()))
    return f"<h2>Hypotheses</h2><ul>{items}</ul>"


def write_report(analysis: Analysis, folder: str | Path, hypotheses: dict[str, str] | None = None,
                 verdict_lines: list[str] | None = None) -> dict[str, Path]:
    """Write every report file into ``folder`` (each atomically, replacing the previous report), and each
    benchmark's comparison.md/.csv into ``folder/<benchmark>/``.

    ``hypotheses``: answers from the runs analysed (a pytest session's); without them, the answers last
    written into the folder are shown, marked as such (``python -m harness report``).
    """
    folder = Path(folder)
    verdict_lines = verdict(analysis) if verdict_lines is None else verdict_lines  # the tests enumerate sign patterns: once
    images = plots.all_plots(analysis, folder / "plots")
    rows = sorted_rows(analysis)
    found = hypotheses if hypotheses is not None else {
        bench: f"{text} (as answered by the last session that ran {bench})"
        for bench, text in answers(folder, sorted(analysis.targets)).items()}
    written = {
        "report.md": write_atomic(folder / "report.md", markdown(analysis, [Path("plots") / p.name for p in images], found, verdict_lines),
                                  overwrite=True),
        "report.html": write_atomic(folder / "report.html", html_page(analysis, images, found, verdict_lines), overwrite=True),
        "summary.csv": write_atomic(folder / "summary.csv", summary_csv(rows), overwrite=True),
        **{f"plots/{p.name}": p for p in images},
    }
    for bench in sorted({r.benchmark for r in rows}):
        mine = [r for r in rows if r.benchmark == bench]
        for name, text in (("comparison.md", "\n".join(markdown_table(mine)) + "\n"), ("comparison.csv", summary_csv(mine))):
            written[f"{bench}/{name}"] = write_atomic(folder / bench / name, text, overwrite=True)
    return written
