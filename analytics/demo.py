"""Demo data of the analytics app: the daily snapshots of the last two weeks, so the dashboards of
a fresh demo already draw trends (rerunning replaces the same rows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from analytics.snapshots import snapshot_range
from core import clock

DEMO_DAYS = 14


def seed_snapshots(say: Callable[[str], None]) -> None:
    today = clock.now().date()
    rows = snapshot_range(date_from=today - timedelta(days=DEMO_DAYS), date_to=today - timedelta(days=1))
    say(f"{rows} snapshot rows for the last {DEMO_DAYS} days")
