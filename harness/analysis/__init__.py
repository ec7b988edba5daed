"""Statistics over runs: every number the report, the verdict and the gate rest on.

* ``stats``: the tests themselves (exact sign-flip / signed-rank, Holm, Friedman, Student-t intervals);
* ``curves``: best-so-far curves, time and epochs to a target, area under the curve;
* ``summary``: ``analyse(records)``, per benchmark and strategy: summaries, paired tests against the reference;
* ``gate``: the CI regression gate against a stored baseline.
"""
