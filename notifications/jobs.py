"""The `notification_dispatch` job: deliver whatever is queued and due."""

from __future__ import annotations

from collections import Counter

from core.jobs import JobContext
from notifications.services import notifications_dispatch_due

OUTCOMES = ("sent", "retried", "failed", "suppressed")


def notification_dispatch(context: JobContext) -> None:
    """Deliver every queued notification that is due: nudges whose quiet hours ended, e-mails
    whose retry time came, and anything whose on-commit task was lost."""

    def report(counts: Counter) -> None:
        context.progress(", ".join(f"{name}={counts[name]}" for name in OUTCOMES))

    counts = notifications_dispatch_due(on_batch=report)
    for name in OUTCOMES:
        context.count(name, counts[name])
    if counts["lease_lost"]:
        context.count("lease_lost", counts["lease_lost"])
