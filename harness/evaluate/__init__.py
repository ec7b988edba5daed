"""Statistics over runs: every number the report, the verdict and the gate rest on.

* ``stats``: the tests themselves (exact sign-flip / signed-rank, Holm, Friedman, t intervals over seeds);
* ``paired``: the one Holm family judgement, and "too few seeds" with the number a test would need;
* ``curves``: best-so-far curves, time and epochs to a target, area under the curve;
* ``summary``: ``analyse(records)``, per benchmark and strategy: summaries, paired tests against the reference;
* ``verdict``: the analysis in words;
* ``agreement``: does a replay rank the strategies as live runs do (Kendall's tau)?
"""
