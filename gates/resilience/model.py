"""The recovery budget of a region loss: named terms in seconds, summed along the worst-case path.

After the loss is detected, two things run side by side: traffic moves (DNS, the edge, capacity in the
secondary) and writes come back (someone is paged, follows the runbooks, the replica is promoted). The RTO
budget is detection plus the longer of the two; the RPO budget is what the replica may lag before anyone is
told. Both the templates (``gates.resilience.templates``) and the lab (``ops.lab.budget``) fill the same terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Branch = Literal["detect", "traffic", "writes"]


@dataclass(frozen=True)
class Term:
    name: str
    seconds: float
    basis: str  # where the figure comes from: the template values or the estimate, in words
    branch: Branch = "detect"


@dataclass(frozen=True, kw_only=True)
class Budget:
    env: str
    rto_terms: tuple[Term, ...]
    rpo_terms: tuple[Term, ...]
    rto_objective_s: float
    rpo_objective_s: float
    # Backups bound the loss when the replica is unusable as well (corruption replicated to it, or both regions'
    # databases lost); judged against their own objective.
    backup_rpo_terms: tuple[Term, ...] = ()
    backup_rpo_objective_s: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def _branch(self, branch: Branch) -> tuple[Term, ...]:
        return tuple(term for term in self.rto_terms if term.branch == branch)

    @property
    def critical_path(self) -> tuple[Term, ...]:
        """Detection, then whichever of traffic and writes takes longer (writes on a tie: they are the RTO)."""
        traffic, writes = self._branch("traffic"), self._branch("writes")
        longer = traffic if _total(traffic) > _total(writes) else writes
        return (*self._branch("detect"), *longer)

    @property
    def rto_s(self) -> float:
        return _total(self.critical_path)

    @property
    def rpo_s(self) -> float:
        return _total(self.rpo_terms)

    @property
    def backup_rpo_s(self) -> float:
        return _total(self.backup_rpo_terms)

    def breaches(self) -> list[str]:
        """One phrase per objective the budget exceeds, naming its terms, largest first."""
        found = []
        if self.rto_s > self.rto_objective_s:
            found.append(_breach("rto", self.rto_s, self.rto_objective_s, self.critical_path))
        if self.rpo_s > self.rpo_objective_s:
            found.append(_breach("rpo", self.rpo_s, self.rpo_objective_s, self.rpo_terms))
        if self.backup_rpo_objective_s is not None and self.backup_rpo_s > self.backup_rpo_objective_s:
            found.append(_breach("backup rpo", self.backup_rpo_s, self.backup_rpo_objective_s, self.backup_rpo_terms))
        return found

    def summary(self) -> str:
        return (f"{self.env} rto budget {self.rto_s:g} s (≤ {self.rto_objective_s:g}), "
                f"rpo budget {self.rpo_s:g} s (≤ {self.rpo_objective_s:g})")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rto_s": self.rto_s, "rpo_s": self.rpo_s, "backup_rpo_s": self.backup_rpo_s,
                "critical_path": [term.name for term in self.critical_path], "breaches": self.breaches()}


def _total(terms: Sequence[Term]) -> float:
    return round(sum(term.seconds for term in terms), 3)


def _breach(what: str, budget: float, objective: float, terms: Sequence[Term]) -> str:
    ranked = sorted(terms, key=lambda term: -term.seconds)
    return f"{what} budget {budget:g} s > {objective:g} s: " + ", ".join(f"{t.name} {t.seconds:g} s" for t in ranked)
