"""Momentum: which pursuits deserve the person's next hour.

    momentum_score = 0.6 x deadline_proximity + 0.4 x trust_score      (each in [0, 1])

Deadline proximity rises linearly from 0, `HORIZON_DAYS` (60) or more days before the deadline,
to 1 at the deadline: `proximity = 1 - days_left / 60`, clipped to [0, 1]; a pursuit without a
deadline has proximity 0. Trust: internal pursuits take their program's (`ProgramTrust`, default
`DEFAULT_PROGRAM_TRUST` 0.8: opportunities the platform runs are vetted); external pursuits take the
score the person or an operator set (default `DEFAULT_EXTERNAL_TRUST` 0.5). Pursuits past their
deadline or no longer open (submitted and later) have no momentum (None) and drop out of the plan."""

from __future__ import annotations

from datetime import datetime

HORIZON_DAYS = 60
DEADLINE_WEIGHT = 0.6
TRUST_WEIGHT = 0.4
DEFAULT_PROGRAM_TRUST = 0.8
DEFAULT_EXTERNAL_TRUST = 0.5


def deadline_proximity(deadline: datetime | None, now: datetime) -> float:
    if deadline is None:
        return 0.0
    days_left = (deadline - now).total_seconds() / 86_400
    return min(max(1.0 - days_left / HORIZON_DAYS, 0.0), 1.0)


def momentum(*, deadline: datetime | None, trust: float, now: datetime, open_: bool) -> float | None:
    """The momentum score (4 decimals) or None when the pursuit drops out."""
    if not open_ or (deadline is not None and deadline <= now):
        return None
    trust = min(max(float(trust), 0.0), 1.0)
    return round(DEADLINE_WEIGHT * deadline_proximity(deadline, now) + TRUST_WEIGHT * trust, 4)
