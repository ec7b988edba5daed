"""The one family judgement every paired comparison shares: Holm over the comparisons that moved, and
whether a comparison's seeds could ever have passed it ("too few seeds"), with the number it would need.

The report's tests against the reference (``summary``), the verdict's time and compute tests (``verdict``)
and the gate's regression tests (``harness.gate.decide``) all judge their families here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable

from harness.evaluate.stats import ALPHA, best_case_holm, holm, min_sign_flip_p, seeds_needed


@dataclass(frozen=True)
class Judged:
    """One comparison of a Holm family."""

    p: float | None  # raw p; None when every paired value was equal (not in the family)
    p_holm: float | None
    m: int  # the family's size: comparisons with a p
    differing: int  # paired seeds whose values differ
    alpha: float
    alternative: str
    best_holm: float  # its Holm p had its own p been the smallest its differing seeds allow

    @property
    def significant(self) -> bool:
        return self.p_holm is not None and self.p_holm < self.alpha

    @property
    def reachable(self) -> bool:
        """Whether the most extreme signs on its differing seeds could pass Holm over this family."""
        return self.p is not None and self.best_holm < self.alpha

    @property
    def needed(self) -> int:
        """Differing seeds Holm's first step over this family needs."""
        return seeds_needed(self.m, self.alpha, self.alternative)

    def too_few(self) -> str:
        return f"Holm over {self.m} comparisons needs {self.needed} differing seeds"


def judge(pvalues: dict[Hashable, float | None], differing: dict[Hashable, int], alpha: float = ALPHA,
          alternative: str = "two-sided") -> dict[Hashable, Judged]:
    """Holm over the comparisons with a p; each comparison judged, including whether it could ever pass."""
    family = {k: p for k, p in pvalues.items() if p is not None}
    adjusted = holm(family) if family else {}
    out = {}
    for key, p in pvalues.items():
        n = differing.get(key, 0)
        best = best_case_holm(family, key, min_sign_flip_p(n, alternative)) if p is not None else 1.0
        out[key] = Judged(p, adjusted.get(key), len(family), n, alpha, alternative, best)
    return out


def none_reachable(judged: dict[Hashable, Judged]) -> bool:
    """True when no comparison of the family could pass Holm, whatever its signs: too few seeds, not 'no difference'."""
    moved = [j for j in judged.values() if j.p is not None]
    return bool(moved) and not any(j.reachable for j in moved)
