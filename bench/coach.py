"""The coach's jobs at scale. Prints one JSON line per figure:

- seeding (bulk inserts): 100,000 pursuits across 10,000 people, deadlines from 5 days past to
  60 days ahead, most still open, progress up to 5 days old; one person in ten already had a coach
  message 3 hours ago (so the "nudge" limit holds theirs back);
- `coach_momentum` through the job runner (target: under 30 s), and a second run (nothing changes);
- one `coach_scan` through the job runner: notifications queued vs suppressed per channel, then a
  rerun at the same instant (nothing new).

It exits non-zero when a person got more than one e-mail or one dashboard nudge within 24 h, when
a rerun sent anything, or when the momentum job fails.

    python bench/coach.py [--users 10000] [--per-user 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta

from _setup import report, scaled, setup

DOMAIN = "coach.bench.local"


def _cleanup() -> None:
    from django.db import connection

    users = "SELECT id FROM accounts_user WHERE email LIKE %s"
    like = f"%@{DOMAIN}"
    with connection.cursor() as cursor:
        for table in (
            "notifications_notification",
            "notifications_notificationpreference",
            "coaching_checkintask",
            "coaching_coachsettings",
            "coaching_pursuit",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE user_id IN ({users})", [like])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", [like])


def _seed(user_count: int, per_user: int) -> tuple[list, int]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from coaching import notices
    from coaching.models import Pursuit
    from core import clock
    from notifications.models import Notification

    User = get_user_model()
    rng = random.Random(20260302)
    now = clock.now()
    password = make_password(None)
    zones = ["Europe/Kyiv", "America/New_York", "Europe/Berlin", "UTC"]
    users = User.objects.bulk_create(
        [
            User(email=f"u{i}@{DOMAIN}", password=password, full_name=f"Bench {i}", timezone=zones[i % len(zones)])
            for i in range(user_count)
        ],
        batch_size=5000,
    )
    states = ["tracked"] * 4 + ["drafting"] * 3 + ["review"] + ["submitted", "outcome_pending", "won", "lost"]
    types = ["essay", "form", "mixed", ""]
    pursuits = []
    for user in users:
        for j in range(per_user):
            state = rng.choice(states)
            deadline = now + timedelta(seconds=rng.randrange(-5 * 86_400, 60 * 86_400))
            submitted = state in ("submitted", "outcome_pending", "won", "lost")
            pursuits.append(
                Pursuit(
                    user=user,
                    title=f"Opportunity {j}",
                    deadline=deadline if rng.random() > 0.05 else None,
                    application_type=rng.choice(types),
                    coach_state=state,
                    trust_score=rng.choice([None, round(rng.random(), 2)]),
                    last_progress_at=now - timedelta(seconds=rng.randrange(0, 5 * 86_400)),
                    submitted_at=now - timedelta(days=rng.randrange(1, 40)) if submitted else None,
                )
            )
    Pursuit.objects.bulk_create(pursuits, batch_size=5000)
    # One person in ten had a coach message 3 hours ago: today's is held back (and recorded).
    earlier = [
        Notification(
            user=user,
            channel=channel,
            kind=notices.MICRO_TASK,
            kind_group="nudge",
            template_name=f"notifications/{notices.MICRO_TASK}/",
            context={"items": [], "earlier": []},
            status="sent",
            sent_at=now - timedelta(hours=3),
        )
        for user in users[::10]
        for channel in ("email", "dashboard")
    ]
    Notification.objects.bulk_create(earlier, batch_size=5000)
    Notification.objects.filter(pk__in=[n.pk for n in earlier]).update(created_at=now - timedelta(hours=3))
    return users, len(pursuits)


def _notification_counts() -> dict[str, int]:
    from django.db.models import Count

    from coaching import notices
    from notifications.models import Notification

    rows = (
        Notification.objects.filter(user__email__endswith=f"@{DOMAIN}", kind__in=notices.COACH_KINDS)
        .values("channel", "status")
        .annotate(n=Count("id"))
    )
    return {f"{row['channel']}_{row['status']}": row["n"] for row in rows}


def _over_the_limit() -> int:
    """People with more than one e-mail or one dashboard nudge out (queued or sent) in 24 h."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM (
              SELECT a.user_id, a.channel FROM notifications_notification a
              JOIN notifications_notification b ON b.user_id = a.user_id AND b.channel = a.channel
                AND b.kind_group = 'nudge' AND b.id <> a.id AND b.status IN ('queued', 'sent')
                AND b.created_at >= a.created_at AND b.created_at < a.created_at + interval '24 hours'
              JOIN accounts_user u ON u.id = a.user_id
              WHERE a.kind_group = 'nudge' AND a.status IN ('queued', 'sent') AND u.email LIKE %s
              GROUP BY a.user_id, a.channel
            ) AS over
            """,
            [f"%@{DOMAIN}"],
        )
        return cursor.fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=scaled(10_000, 20))
    parser.add_argument("--per-user", type=int, default=10)
    args = parser.parse_args()
    setup()
    from core import clock
    from core.jobs import run_job

    _cleanup()
    started = time.perf_counter()
    users, pursuits = _seed(args.users, args.per_user)
    report("coach.seed", pursuits, time.perf_counter() - started, users=len(users))
    # The jobs' clock stands still from here, so each rerun sees the same instant as its first
    # run (with time moving, a rerun a minute later may rightly find a pursuit that just crossed
    # a window edge).
    pinned = clock.now()
    clock.now = lambda: pinned

    failures = []
    started = time.perf_counter()
    run = run_job("coach_momentum")
    seconds = time.perf_counter() - started
    report("coach.momentum", pursuits, seconds, status=run.status, changed=run.counts.get("changed"), target_seconds=30)
    if run.status != "succeeded":
        failures.append(f"coach_momentum {run.status}: {run.error}")
    started = time.perf_counter()
    again = run_job("coach_momentum")
    report(
        "coach.momentum.rerun",
        pursuits,
        time.perf_counter() - started,
        baseline="coach.momentum",
        changed=again.counts.get("changed"),
    )

    before = _notification_counts()
    started = time.perf_counter()
    run = run_job("coach_scan")
    seconds = time.perf_counter() - started
    after = _notification_counts()
    new = {key: after.get(key, 0) - before.get(key, 0) for key in sorted(set(after) | set(before))}
    queued = new.get("email_queued", 0) + new.get("dashboard_queued", 0)
    suppressed = new.get("email_suppressed", 0) + new.get("dashboard_suppressed", 0)
    over = _over_the_limit()
    report(
        "coach.scan",
        len(users),
        seconds,
        status=run.status,
        messages=run.counts.get("messages", 0),
        deadline_items=run.counts.get("deadline_items", 0),
        micro_tasks=run.counts.get("micro_tasks", 0),
        notifications_queued=queued,
        notifications_suppressed=suppressed,
        by_channel=new,
        people_over_the_limit=over,
    )
    if run.status != "succeeded":
        failures.append(f"coach_scan {run.status}: {run.error}")
    if over:
        failures.append(f"{over} person/channel pairs got more than one nudge within 24 h")

    started = time.perf_counter()
    rerun = run_job("coach_scan")
    resent = sum(_notification_counts().values()) - sum(after.values())
    report(
        "coach.scan.rerun",
        len(users),
        time.perf_counter() - started,
        baseline="coach.scan",
        status=rerun.status,
        new_notifications=resent,
    )
    if resent:
        failures.append(f"the rerun created {resent} notifications")
    _cleanup()
    for failure in failures:
        sys.stderr.write(f"FAILED: {failure}\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
