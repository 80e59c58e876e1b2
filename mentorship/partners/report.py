"""The reconciliation report of a batch import: counts per kind (created, updated, unchanged,
rejected) and every rejected row with its file, row and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mentorship.partners.common import PARTNER_NAMES

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"


@dataclass
class Rejection:
    file: str
    row: int
    reason: str


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected


@dataclass
class ImportReport:
    source: str
    program_key: str
    path: str
    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    settled: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> Counts:
        total = Counts()
        for counts in self.counts.values():
            for name in (CREATED, UPDATED, UNCHANGED, REJECTED):
                setattr(total, name, getattr(total, name) + getattr(counts, name))
        return total

    def as_dict(self) -> dict[str, Any]:
        def plain(c: Counts) -> dict[str, int]:
            return {"created": c.created, "updated": c.updated, "unchanged": c.unchanged, "rejected": c.rejected}

        return {
            "source": self.source,
            "program": self.program_key,
            "path": self.path,
            "dry_run": self.dry_run,
            "counts": {kind: plain(c) for kind, c in self.counts.items()},
            "total": plain(self.total),
            "rejected": [{"file": r.file, "row": r.row, "reason": r.reason} for r in self.rejections],
            "people_settled": self.settled,
            "seconds": round(self.seconds, 3),
        }

    def lines(self) -> list[str]:
        head = f"{'':12}{'created':>9}{'updated':>9}{'unchanged':>11}{'rejected':>10}"
        out = [
            f"Reconciliation of the {PARTNER_NAMES.get(self.source, self.source)} export {self.path} "
            f"into {self.program_key}" + (" (dry run: nothing was written)" if self.dry_run else ""),
            head,
        ]
        for kind, c in [*self.counts.items(), ("total", self.total)]:
            out.append(f"{kind:12}{c.created:>9}{c.updated:>9}{c.unchanged:>11}{c.rejected:>10}")
        if self.rejections:
            out.append("Rejected rows:")
            out.extend(f"  {r.file} row {r.row}: {r.reason}" for r in self.rejections)
        out.append(f"People settled (enrollment status, journey flags): {self.settled}. {self.seconds:.1f} s.")
        return out
