"""The CI regression gate: this session's runs against a stored baseline.

* ``rules``: ``METRIC:TOLERANCE`` rules and the metrics they name;
* ``baseline``: the baseline file and the like-with-like identity check;
* ``decide``: pairing runs with the baseline by seed, the one-sided sign-flip tests and Holm.
"""

from harness.gate.baseline import GateMismatch, check_like_with_like, identity, load_baseline, save_baseline
from harness.gate.decide import GateResult, decide, evaluate
from harness.gate.rules import DEFAULT_RULES, METRICS, Rule, parse_rule

__all__ = ["DEFAULT_RULES", "METRICS", "GateMismatch", "GateResult", "Rule", "check_like_with_like", "decide",
           "evaluate", "identity", "load_baseline", "parse_rule", "save_baseline"]
