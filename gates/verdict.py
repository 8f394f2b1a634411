"""What every gate decides, as its exit code: 0 pass, 1 fail (findings), 2 inconclusive (could not judge).
"No data" is never a pass, so a gate that judged nothing says INCONCLUSIVE, however clean the rest looks."""

from __future__ import annotations

from enum import IntEnum


class Verdict(IntEnum):
    PASS = 0
    FAIL = 1
    INCONCLUSIVE = 2

    @classmethod
    def of(cls, *, failed: bool, judged: bool) -> Verdict:
        """A finding fails even when part of the run could not be judged; otherwise no judgment is no pass."""
        return cls.FAIL if failed else (cls.PASS if judged else cls.INCONCLUSIVE)
