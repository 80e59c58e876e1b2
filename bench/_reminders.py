"""The session reminder job over 100,000 upcoming registrations.

`reminders_bench()` seeds (with bulk inserts) sessions that all start in the next hour's 24-hour
reminder window, each with registered participants, runs the `session_reminders` job through
`core.jobs.run_job`, checks that it sent exactly one reminder per registration, and prints one
JSON line per figure: the seeding, the job, and a second run that finds everything claimed. It
expects `_setup.setup()` to have run (bench/scheduling.py calls it); on its own:

    python bench/_reminders.py [--registrations 100000] [--per-session 100] [--users 25000]
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import timedelta

from _setup import report, scaled, setup

DOMAIN = "reminders.bench.local"
PROGRAM_NAME = "Bench reminders"


def _cleanup() -> None:
    """Remove what an earlier run left (its users, sessions, claims, notifications, events)."""
    from django.db import connection

    users = "SELECT id FROM accounts_user WHERE email LIKE %s"
    sessions = "SELECT s.id FROM scheduling_session s JOIN programs_program p ON p.id = s.program_id WHERE p.name = %s"
    like = f"%@{DOMAIN}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM crm_sync_outboxevent WHERE subject_type = 'session' AND subject_id IN "
            f"(SELECT id::text FROM ({sessions}) AS bench_sessions)",
            [PROGRAM_NAME],
        )
        cursor.execute(f"DELETE FROM scheduling_sessionreminder WHERE session_id IN ({sessions})", [PROGRAM_NAME])
        cursor.execute(f"DELETE FROM scheduling_registration WHERE session_id IN ({sessions})", [PROGRAM_NAME])
        cursor.execute(f"DELETE FROM scheduling_session WHERE id IN ({sessions})", [PROGRAM_NAME])
        cursor.execute(f"DELETE FROM notifications_notification WHERE user_id IN ({users})", [like])
        cursor.execute(f"DELETE FROM notifications_notificationpreference WHERE user_id IN ({users})", [like])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", [like])


def _program():
    from programs.models import BeneficiaryGroup, Program
    from programs.services import beneficiary_group_create, program_create, program_set_status
    from templates_app.models import ProgramTemplate
    from templates_app.services import templates_seed_builtin

    program = Program.objects.filter(name=PROGRAM_NAME).first()
    if program is not None:
        return program
    templates_seed_builtin()
    group = BeneficiaryGroup.objects.filter(key="bench").first() or beneficiary_group_create(key="bench", name="Bench")
    template = ProgramTemplate.objects.get(template_key="mentorship-standard", version=1)
    program = program_create(
        template=template,
        name=PROGRAM_NAME,
        beneficiary_group=group,
        config_overrides={"reminders": {"session_hours_before": [24, 1]}},
    )
    program_set_status(program=program, status="active")
    return program


def _seed(registrations: int, per_session: int, user_count: int) -> tuple[object, int]:
    """Sessions starting 23 h 5 min to 23 h 55 min from now (their 24-hour reminder is due), each
    with `per_session` registered participants drawn in turn from `user_count` users."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from core import clock
    from scheduling.models import Registration, Session

    User = get_user_model()
    program = _program()
    now = clock.now()
    password = make_password(None)
    zones = ["Europe/Kyiv", "America/New_York", "Asia/Tokyo", "Europe/Berlin", ""]
    users = User.objects.bulk_create(
        [
            User(email=f"u{i}@{DOMAIN}", password=password, full_name=f"Bench {i}", timezone=zones[i % len(zones)])
            for i in range(user_count)
        ],
        batch_size=5000,
    )
    session_count = -(-registrations // per_session)
    sessions = Session.objects.bulk_create(
        [
            Session(
                program=program,
                kind="live_event",
                title=f"Bench session {i}",
                starts_at=now + timedelta(hours=23, minutes=5 + (50 * i) // session_count),
                ends_at=now + timedelta(hours=24, minutes=5 + (50 * i) // session_count),
                timezone="Europe/Kyiv",
                provider="jitsi",
                join_url=f"https://meet.jit.si/bench-{uuid.uuid4().hex}",
            )
            for i in range(session_count)
        ],
        batch_size=5000,
    )
    rows = []
    cursor = 0
    for session in sessions:
        take = min(per_session, registrations - len(rows))
        for _ in range(take):
            rows.append(
                Registration(
                    session=session,
                    user=users[cursor % user_count],
                    status="registered",
                    source="operator",
                    registered_at=now,
                )
            )
            cursor += 1
    Registration.objects.bulk_create(rows, batch_size=5000)
    return program, len(rows)


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("accounts_user", "scheduling_session", "scheduling_registration", "scheduling_sessionreminder"):
            cursor.execute(f"ANALYZE {table}")


def reminders_bench(registrations: int = 100_000, per_session: int = 100, users: int = 25_000) -> None:
    from core.jobs import run_job
    from scheduling.models import SessionReminder

    users = min(users, registrations)
    per_session = min(per_session, users)
    _cleanup()
    started = time.perf_counter()
    program, expected = _seed(registrations, per_session, users)
    report("reminders.seed", expected, time.perf_counter() - started)
    _analyze()

    others_before = SessionReminder.objects.exclude(session__program=program).count()
    started = time.perf_counter()
    run = run_job("session_reminders")
    seconds = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    claimed = SessionReminder.objects.filter(session__program=program, kind="reminder", hours_before=24).count()
    others = SessionReminder.objects.exclude(session__program=program).count() - others_before
    sent = run.counts.get("sent", 0)
    assert claimed == expected, (claimed, expected)
    assert sent == expected + others, (sent, expected, others)
    report("reminders.job", expected, seconds, sent=claimed, expected=expected)

    started = time.perf_counter()
    again = run_job("session_reminders")
    seconds = time.perf_counter() - started
    assert again.status == "succeeded" and again.counts.get("sent", 0) == 0, (again.status, again.counts)
    report("reminders.job.rerun", expected, seconds, baseline="reminders.job", sent=0)
    _cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=scaled(100_000, 100))
    parser.add_argument("--per-session", type=int, default=100)
    parser.add_argument("--users", type=int, default=scaled(25_000, 100))
    args = parser.parse_args()
    setup()
    reminders_bench(args.registrations, args.per_session, args.users)


if __name__ == "__main__":
    main()
