"""Demo sessions: a weekly mentoring series, a live read open for registration (the writer has a
place) and office hours, all in the coming weeks in their programs' time zones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from core import clock
from programs.models import Program
from scheduling.models import Session
from scheduling.services import registration_create, session_create, session_series_create


def _next_local(program: Program, *, days: int, at: time) -> datetime:
    zone = ZoneInfo(program.timezone)
    day = clock.now().astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, at, tzinfo=zone)


def seed_sessions(say: Callable[[str], None]) -> None:
    User = get_user_model()
    mentor = User.objects.filter(email="mentor@demo.local").first()
    writer = User.objects.filter(email="writer@demo.local").first()
    operator = User.objects.filter(email="operator@demo.local").first()

    mentors = Program.objects.filter(program_key="mentors-for-ukraine").first()
    if mentors is not None and not Session.objects.filter(program=mentors).exists():
        start = _next_local(mentors, days=7, at=time(18, 0))
        series = session_series_create(
            program=mentors,
            kind="mentoring",
            title="Mentoring circle",
            description="Bring one question about your job search; leave with a next step.",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            recurrence={"frequency": "weekly", "interval": 1, "count": 4},
            host=mentor,
            open_registration=True,
            capacity=8,
        )
        say(f"{len(series)} weekly sessions of 'Mentoring circle' in mentors-for-ukraine")

    pitch = Program.objects.filter(program_key="pitch-week").first()
    if pitch is not None and not Session.objects.filter(program=pitch).exists():
        start = _next_local(pitch, days=3, at=time(17, 0))
        live = session_create(
            program=pitch,
            kind="live_event",
            title="Live read: first pages",
            description="Actors read the opening pages of three pitches; the writers answer questions.",
            starts_at=start,
            ends_at=start + timedelta(minutes=90),
            capacity=2,
            host=operator,
        )
        if writer is not None:
            registration_create(session=live, user=writer)
        office = _next_local(pitch, days=5, at=time(12, 0))
        session_create(
            program=pitch,
            kind="office_hours",
            title="Office hours: pitch decks",
            starts_at=office,
            ends_at=office + timedelta(hours=1),
            capacity=6,
        )
        say("a live read (the writer has a place) and office hours in pitch-week")
