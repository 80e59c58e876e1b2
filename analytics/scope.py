"""What a metric is computed over: programs, an optional date range (inclusive, in UTC dates),
and optionally one campaign and/or one cohort."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any


@dataclass(frozen=True)
class Scope:
    program_ids: tuple[Any, ...] = field(default_factory=tuple)  # empty: every program
    date_from: date | None = None
    date_to: date | None = None
    campaign_id: Any = None
    cohort_id: Any = None

    @property
    def start(self) -> datetime | None:
        return datetime.combine(self.date_from, time.min, tzinfo=UTC) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        """Exclusive end instant (the day after `date_to`)."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC) if self.date_to else None
