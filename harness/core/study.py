"""A study's hypothesis, answered from its runs and written beside them for the report.

A benchmark module may define ``HYPOTHESIS = Hypothesis(question, answer)``: at the end of a session,
``answer(records)`` (the session's runs of that benchmark) returns a sentence that names its
statistic, p-value and sample size; it is written atomically to ``results/<benchmark>/hypothesis.md``,
and every report built from that folder (``python -m harness report`` included) shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.core.records import RunRecord
from harness.core.store import write_atomic

FILE = "hypothesis.md"


@dataclass(frozen=True)
class Hypothesis:
    question: str
    answer: Callable[[list[RunRecord]], str]

    def write(self, records: list[RunRecord], folder: str | Path, benchmark: str) -> Path:
        text = f"**{self.question}** {self.answer(records)}\n"
        return write_atomic(Path(folder) / benchmark / FILE, text, overwrite=True)


def answers(folder: str | Path, benchmarks: list[str]) -> dict[str, str]:
    """The stored answers of these benchmarks' hypotheses, by benchmark."""
    found = {}
    for bench in benchmarks:
        path = Path(folder) / bench / FILE
        if path.exists():
            found[bench] = path.read_text(encoding="utf-8").strip()
    return found
