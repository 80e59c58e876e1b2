"""Scheduling at scale. Prints one JSON line per figure:

- slot matching for 3 people in three time zones over 4 weeks of weekly availability, with busy
  sessions (seconds per call over several calls), and booking the best slot repeatedly;
- slot matching for 200 people in one call (their windows and sessions, 4 weeks);
- the session reminder job over 100,000 upcoming registrations, from bench/_reminders.py.

    python bench/scheduling.py [--calls 20] [--crowd 200] [--weeks 4] [--registrations 100000] [--no-reminders]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path

from _setup import report, scaled, setup

DOMAIN = "matching.bench.local"
PROGRAM_NAME = "Bench matching"
ZONES = ["Europe/Kyiv", "Europe/London", "Europe/Berlin", "America/New_York", "Europe/Lisbon"]


def _cleanup() -> None:
    """Remove what an earlier run left (its people, windows, sessions, notifications, events)."""
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
        for table in ("sessionreminder", "registration", "hostconfirmation", "attendance"):
            cursor.execute(f"DELETE FROM scheduling_{table} WHERE session_id IN ({sessions})", [PROGRAM_NAME])
        cursor.execute(f"DELETE FROM scheduling_session WHERE id IN ({sessions})", [PROGRAM_NAME])
        cursor.execute(f"DELETE FROM scheduling_availabilitywindow WHERE owner_id IN ({users})", [like])
        cursor.execute(f"DELETE FROM notifications_notification WHERE user_id IN ({users})", [like])
        cursor.execute(f"DELETE FROM notifications_notificationpreference WHERE user_id IN ({users})", [like])
        cursor.execute(f"DELETE FROM scheduling_hostconfirmation WHERE host_id IN ({users})", [like])
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
    program = program_create(template=template, name=PROGRAM_NAME, beneficiary_group=group, timezone="Europe/Kyiv")
    program_set_status(program=program, status="active")
    return program


def _people(count: int, tag: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    password = make_password(None)
    return User.objects.bulk_create(
        [User(email=f"{tag}{i}@{DOMAIN}", password=password, timezone=ZONES[i % len(ZONES)]) for i in range(count)]
    )


def _weekly_windows(program, people, valid_from) -> int:
    """Each person: weekdays 08:00-12:00 and 13:00-20:00 in their own zone (10 windows)."""
    from scheduling.services.availability import availability_create

    items = [
        {
            "owner": person,
            "kind": "weekly",
            "weekday": weekday,
            "start_time": start,
            "end_time": end,
            "timezone": person.timezone,
            "valid_from": valid_from,
        }
        for person in people
        for weekday in range(5)
        for start, end in ((wall(8), wall(12)), (wall(13), wall(20)))
    ]
    for batch in range(0, len(items), 500):
        availability_create(program=program, items=items[batch : batch + 500])
    return len(items)


def _busy(program, people, start: datetime, weeks: int, per_person: int, rng: random.Random) -> int:
    """`per_person` one-hour sessions per person at random weekday hours (bulk inserted)."""
    from scheduling.models import Registration, Session

    sessions, registrations = [], []
    for person in people:
        for _ in range(per_person):
            day = rng.randrange(weeks * 7)
            hour = rng.randrange(6, 20)
            starts_at = start + timedelta(days=day, hours=hour)
            session = Session(
                program=program,
                kind="lesson",
                title="Bench lesson",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                timezone="UTC",
            )
            sessions.append(session)
            registrations.append(
                Registration(session=session, user=person, status="registered", source="operator", registered_at=start)
            )
    Session.objects.bulk_create(sessions, batch_size=5000)
    Registration.objects.bulk_create(registrations, batch_size=5000)
    return len(sessions)


def _next_monday() -> datetime:
    from core import clock

    today = clock.now().astimezone(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, wall(0), tzinfo=UTC)


def _queries(call):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        value = call()
    return value, len(ctx.captured_queries)


def matching_bench(calls: int, crowd: int, weeks: int) -> None:
    from scheduling.services.matching import find_slots, slot_book

    _cleanup()
    rng = random.Random(20260309)
    program = _program()
    start = _next_monday()
    end = start + timedelta(weeks=weeks)
    search = {"duration_minutes": 60, "range_start": start, "range_end": end, "limit": 10}

    trio = _people(3, "trio")
    _weekly_windows(program, trio, start.date() - timedelta(days=7))
    busy = _busy(program, trio, start, weeks, per_person=3 * weeks, rng=rng)
    find_slots(program=program, participants=trio, **search)  # warm up
    started = time.perf_counter()
    for _ in range(calls):
        candidates = find_slots(program=program, participants=trio, **search)
    seconds = time.perf_counter() - started
    _, queries = _queries(lambda: find_slots(program=program, participants=trio, **search))
    assert len(candidates) == 10, candidates
    report(
        "matching.search.3_people",
        calls,
        seconds,
        seconds_per_call=round(seconds / calls, 4),
        weeks=weeks,
        busy_sessions=busy,
        queries=queries,
    )
    preferred = {"start": wall(10), "end": wall(17), "timezone": None}
    started = time.perf_counter()
    for _ in range(calls):
        find_slots(program=program, participants=trio, preferred_hours=preferred, **search)
    seconds = time.perf_counter() - started
    report(
        "matching.search.3_people.preferred_hours",
        calls,
        seconds,
        baseline="matching.search.3_people",
        ratio_of="seconds_per_call",
        seconds_per_call=round(seconds / calls, 4),
    )

    bookings = min(calls, 10)
    started = time.perf_counter()
    booked = [
        slot_book(program=program, participants=trio, title=f"Bench meeting {i}", **search).session
        for i in range(bookings)
    ]
    seconds = time.perf_counter() - started
    assert len({s.starts_at for s in booked}) == bookings
    report("matching.book.3_people", bookings, seconds, seconds_per_call=round(seconds / bookings, 4))

    people = _people(crowd, "crowd")
    windows = _weekly_windows(program, people, start.date() - timedelta(days=7))
    busy = _busy(program, people, start, weeks, per_person=1, rng=rng)
    find_slots(program=program, participants=people[:3], **search)  # warm up
    started = time.perf_counter()
    candidates, queries = _queries(lambda: find_slots(program=program, participants=people, **search))
    seconds = time.perf_counter() - started
    report(
        f"matching.search.{crowd}_people",
        crowd,
        seconds,
        weeks=weeks,
        windows=windows,
        busy_sessions=busy,
        candidates=len(candidates),
        queries=queries,
    )
    _cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--crowd", type=int, default=scaled(200, 10))
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--registrations", type=int, default=scaled(100_000, 100))
    parser.add_argument("--no-reminders", action="store_true", help="Skip the reminder job benchmark.")
    args = parser.parse_args()
    setup()
    matching_bench(args.calls, args.crowd, args.weeks)

    # --- The reminder job (bench/_reminders.py) -------------------------------------------------
    if args.no_reminders:
        print("# --no-reminders: the reminder benchmark is skipped.")  # noqa: T201
    elif (Path(__file__).resolve().parent / "_reminders.py").exists():
        from _reminders import reminders_bench

        reminders_bench(registrations=args.registrations)
    else:
        print("# bench/_reminders.py is missing: the reminder benchmark is skipped.")  # noqa: T201


if __name__ == "__main__":
    main()
