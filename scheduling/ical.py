"""iCalendar feeds of sessions: what a feed holds, and how it is written (RFC 5545).

Three feeds:
- a person's private feed (`/calendar/<token>.ics`): the sessions they are registered or
  waitlisted for and those they host, from 90 days back and everything upcoming; sessions
  cancelled (or places the person gave up) in the last 30 days stay in as STATUS:CANCELLED, so
  calendar apps drop them rather than keep a stale copy;
- a program's public feed (`/programs/<key>/calendar.ics`): its open events (sessions anyone
  signed in may register for), with no personal data: no join link, the program page instead;
- one session as a file to add to a calendar (`/sessions/<id>.ics`).

Every session keeps one UID (`<session id>@<site host>`) across all three and across
reschedules; SEQUENCE is the session's `sequence` (raised on every reschedule), so calendar apps
replace the old time rather than add a second event. Times are written in the session's own
zone (DTSTART;TZID=Europe/Kyiv:...) with the zone's VTIMEZONE data, so a calendar app shows the
right local time on both sides of a DST change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.urls import reverse
from icalendar import Calendar, Event, Timezone

from core.middleware import valid_timezone
from programs.enums import ProgramStatus
from programs.models import Program
from scheduling import notices
from scheduling.enums import RegistrationStatus, SessionStatus
from scheduling.models import Session

PRODID = "-//Programs and Events//Sessions//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
# How far back a feed reaches, and how long cancelled sessions stay in as STATUS:CANCELLED.
PAST_DAYS = 90
CANCELLED_DAYS = 30
# How often calendar apps should fetch a feed again.
REFRESH = timedelta(hours=1)

ROLE_HOST = "host"
ROLE_REGISTERED = RegistrationStatus.REGISTERED.value
ROLE_WAITLISTED = RegistrationStatus.WAITLISTED.value
ROLE_CANCELLED = RegistrationStatus.CANCELLED.value


@dataclass(frozen=True)
class Entry:
    """One session in a person's calendar: how they take part (`role`) decides what they see."""

    session: Session
    role: str
    stamp: datetime

    @property
    def cancelled(self) -> bool:
        return self.session.status == SessionStatus.CANCELLED or self.role == ROLE_CANCELLED

    @property
    def has_place(self) -> bool:
        """Hosts and registered people get the join link; the waiting list does not."""
        return self.role in (ROLE_HOST, ROLE_REGISTERED)


# --- What a feed holds --------------------------------------------------------------------------


def with_my_registration(queryset: QuerySet[Session], user: Any) -> QuerySet[Session]:
    """Sessions annotated with the user's registration (one LEFT JOIN, no query per row):
    `my_status`, `my_cancelled_at`, `my_updated_at` (None without a registration)."""
    return queryset.annotate(
        mine=FilteredRelation("registrations", condition=Q(registrations__user_id=user.pk)),
    ).annotate(
        my_status=F("mine__status"),
        my_cancelled_at=F("mine__cancelled_at"),
        my_updated_at=F("mine__updated_at"),
    )


def _role(session: Session, user_id: Any) -> str | None:
    if session.host_id == user_id:
        return ROLE_HOST
    return getattr(session, "my_status", None)


def _entry(session: Session, user_id: Any) -> Entry | None:
    role = _role(session, user_id)
    if role is None:
        return None
    stamps = [session.updated_at] + ([session.my_updated_at] if getattr(session, "my_updated_at", None) else [])
    return Entry(session=session, role=role, stamp=max(stamps))


def user_feed_entries(user: Any, *, now: datetime) -> list[Entry]:
    """The sessions of a person's private feed, in one query: hosted or with a place (registered
    or waitlisted), starting at most PAST_DAYS ago; cancelled sessions and places given up stay
    CANCELLED_DAYS after the cancellation."""
    recent = now - timedelta(days=CANCELLED_DAYS)
    sessions = (
        with_my_registration(Session.objects.select_related("program"), user)
        .filter(starts_at__gte=now - timedelta(days=PAST_DAYS))
        .filter(
            Q(host_id=user.pk)
            | Q(my_status__in=(RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED))
            | Q(my_status=RegistrationStatus.CANCELLED, my_cancelled_at__gte=recent)
        )
        .exclude(status=SessionStatus.CANCELLED, cancelled_at__lt=recent)
        .order_by("starts_at", "id")
    )
    return [entry for session in sessions if (entry := _entry(session, user.pk)) is not None]


def session_entry(user: Any, session_id: Any) -> Entry | None:
    """The signed-in user's own session (hosted, registered or waitlisted), else None."""
    session = (
        with_my_registration(Session.objects.select_related("program"), user)
        .filter(pk=session_id)
        .filter(Q(host_id=user.pk) | Q(my_status__in=(RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)))
        .first()
    )
    return _entry(session, user.pk) if session is not None else None


def program_feed_sessions(program: Program, *, now: datetime) -> list[Session]:
    """A program's open events for its public feed: scheduled or delivered ones starting at most
    PAST_DAYS ago, and those cancelled in the last CANCELLED_DAYS."""
    return list(
        Session.objects.select_related("program")
        .filter(program_id=program.pk, open_registration=True, starts_at__gte=now - timedelta(days=PAST_DAYS))
        .exclude(status=SessionStatus.CANCELLED, cancelled_at__lt=now - timedelta(days=CANCELLED_DAYS))
        .order_by("starts_at", "id")
    )


def public_program(program_key: str) -> Program | None:
    """The program of a public feed: active programs only."""
    return Program.objects.filter(program_key=program_key, status=ProgramStatus.ACTIVE).first()


# --- How a feed is written ----------------------------------------------------------------------


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def session_uid(session: Session) -> str:
    return f"{session.pk}@{site_host()}"


def program_url(program: Program) -> str:
    return settings.SITE_URL + reverse("program-detail", kwargs={"program_key": program.program_key})


def _zone(name: str) -> ZoneInfo:
    return valid_timezone(name) or ZoneInfo("UTC")


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    # Building a VTIMEZONE walks the zone's transitions; the same zone and years are asked for
    # on every fetch of a feed, and the component is never changed once built.
    return Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1))


def _add_timezones(calendar: Calendar, sessions: list[Session]) -> None:
    """One VTIMEZONE per zone the events use (UTC needs none), covering the events' years."""
    zones = sorted({_zone(s.timezone).key for s in sessions} - {"UTC"})
    if not zones:
        return
    first = min(s.starts_at for s in sessions).year - 1
    last = max(s.ends_at for s in sessions).year + 2
    for tzid in zones:
        calendar.add_component(_vtimezone(tzid, first, last))


def _calendar(*, name: str, uid: str, description: str) -> Calendar:
    calendar = Calendar.new(prodid=PRODID, name=name, uid=uid, method="PUBLISH", description=description)
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", "PT1H")
    return calendar


def _event(
    session: Session, *, summary: str, description: str, url: str, location: str, stamp: datetime, cancelled: bool
) -> Event:
    zone = _zone(session.timezone)
    return Event.new(
        uid=session_uid(session),
        stamp=stamp.astimezone(UTC),
        start=session.starts_at.astimezone(zone),
        end=session.ends_at.astimezone(zone),
        sequence=session.sequence,
        status="CANCELLED" if cancelled else "CONFIRMED",
        summary=summary,
        description=description,
        url=url,
        location=location,
    )


def _private_event(entry: Entry) -> Event:
    session = entry.session
    join = session.join_url if session.online and entry.has_place and not entry.cancelled else ""
    lines = [session.description.strip()] if session.description.strip() else []
    lines.append(f"Program: {session.program.name}")
    if session.status == SessionStatus.CANCELLED:
        lines.append(f"Cancelled: {session.cancel_reason}" if session.cancel_reason else "Cancelled.")
    elif entry.role == ROLE_CANCELLED:
        lines.append("You cancelled your place.")
    elif entry.role == ROLE_WAITLISTED:
        lines.append("You are on the waiting list; you will be told when a place is yours.")
    elif entry.role == ROLE_HOST:
        lines.append("You host this session.")
    if join:
        lines.append(f"Join: {join}")
    if not session.online and session.location:
        lines.append(f"Where: {session.location}")
    lines.append(f"My sessions: {notices.my_sessions_url()}")
    summary = f"{session.title} (waiting list)" if entry.role == ROLE_WAITLISTED else session.title
    return _event(
        session,
        summary=summary,
        description="\n".join(lines),
        url=join or program_url(session.program),
        location=join or (session.location if not session.online else "Online"),
        stamp=entry.stamp,
        cancelled=entry.cancelled,
    )


def _public_event(session: Session) -> Event:
    lines = [session.description.strip()] if session.description.strip() else []
    lines.append(f"Program: {session.program.name}")
    if session.status == SessionStatus.CANCELLED:
        lines.append(f"Cancelled: {session.cancel_reason}" if session.cancel_reason else "Cancelled.")
    else:
        lines.append(f"Register: {notices.my_sessions_url()}")
    return _event(
        session,
        summary=session.title,
        description="\n".join(lines),
        url=program_url(session.program),
        location="Online" if session.online else session.location,
        stamp=session.updated_at,
        cancelled=session.status == SessionStatus.CANCELLED,
    )


def _entries_calendar(entries: list[Entry], *, name: str, uid: str, description: str) -> bytes:
    calendar = _calendar(name=name, uid=uid, description=description)
    _add_timezones(calendar, [e.session for e in entries])
    for entry in entries:
        calendar.add_component(_private_event(entry))
    return calendar.to_ical()


def user_calendar(user: Any, entries: list[Entry]) -> bytes:
    """The private feed of `user`."""
    return _entries_calendar(
        entries,
        name="My sessions",
        uid=f"sessions-{user.pk}@{site_host()}",
        description="Sessions you take part in or host.",
    )


def session_calendar(entry: Entry) -> bytes:
    """One session as a calendar file (with the person's view of it)."""
    return _entries_calendar(
        [entry],
        name=entry.session.title,
        uid=f"session-{entry.session.pk}@{site_host()}",
        description=entry.session.program.name,
    )


def program_calendar(program: Program, sessions: list[Session]) -> bytes:
    """The public feed of a program's open events."""
    calendar = _calendar(
        name=f"{program.name}: events",
        uid=f"program-{program.pk}@{site_host()}",
        description=f"Open events of {program.name}.",
    )
    _add_timezones(calendar, sessions)
    for session in sessions:
        calendar.add_component(_public_event(session))
    return calendar.to_ical()
