"""Participants' and hosts' pages: "My sessions" (upcoming and past sessions in the viewer's time
zone, join links, self check-in, host confirmations, open events to register for, the calendar
feed) and the calendar files (private feed, a program's public feed, one session).

Which open events the page offers: every upcoming open event (`open_registration`) of an active
program, nearest first, as many as OPEN_EVENTS_LIMIT. Open events are public (their program's
feed lists them) and anyone signed in may register, so the page does not narrow them down to the
programs the viewer is enrolled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from core import clock
from core.errors import DomainError, NotFound
from core.middleware import valid_timezone
from programs.enums import ProgramStatus
from scheduling import ical
from scheduling.enums import AttendanceStatus, ConfirmationStatus, RegistrationSource, RegistrationStatus, SessionStatus
from scheduling.models import CalendarFeed, HostConfirmation, Registration, Session
from scheduling.services.attendance import attendance_self_check_in
from scheduling.services.calendar import active_feed, calendar_feed_get_or_create, calendar_feed_revoke
from scheduling.services.confirmations import host_confirmation_decide
from scheduling.services.registrations import registration_cancel, registration_create

# The join link (and self check-in) opens this long before the start and closes at the end.
JOIN_OPENS_BEFORE = timedelta(minutes=15)
OPEN_EVENTS_LIMIT = 50
ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


@dataclass
class SessionRow:
    session: Session
    role: str  # host, registered or waitlisted
    position: int | None = None  # on the waiting list, 1 = next to get a place
    join_url: str = ""
    join_opens_at: datetime | None = None
    join_open: bool = False
    can_check_in: bool = False
    checked_in: bool = False
    can_cancel: bool = False
    attendance: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.session.status == SessionStatus.CANCELLED


def _with_zone_notes(sessions: list[Session]) -> list[Session]:
    """Give each session `zone_note`, its start where it is planned ("18:00 in Europe/Kyiv"), when
    that wall-clock time differs from the viewer's (the viewer's zone is active)."""
    viewer = timezone.get_current_timezone()
    for session in sessions:
        zone = valid_timezone(session.timezone)
        local = session.starts_at.astimezone(zone) if zone else None
        differs = local is not None and local.utcoffset() != session.starts_at.astimezone(viewer).utcoffset()
        session.zone_note = f"{local:%H:%M} in {session.timezone}" if differs else ""
    return sessions


def _in_window(session: Session, now: datetime) -> bool:
    return session.status == SessionStatus.SCHEDULED and session.starts_at - JOIN_OPENS_BEFORE <= now < session.ends_at


def _row(session: Session, user: Any, now: datetime, positions: dict[Any, int]) -> SessionRow:
    role = ical.ROLE_HOST if session.host_id == user.pk else session.my_status
    attended = session.my_attendance
    row = SessionRow(session=session, role=role, attendance=AttendanceStatus(attended).label if attended else None)
    has_place = role in (ical.ROLE_HOST, ical.ROLE_REGISTERED)
    if role == ical.ROLE_WAITLISTED:
        row.position = positions.get(session.pk)
    if session.online and has_place and session.status == SessionStatus.SCHEDULED:
        row.join_url = (session.host_url or session.join_url) if role == ical.ROLE_HOST else session.join_url
        row.join_opens_at = session.starts_at - JOIN_OPENS_BEFORE
        row.join_open = bool(row.join_url) and _in_window(session, now)
    row.checked_in = session.my_attendance is not None
    row.can_check_in = role == ical.ROLE_REGISTERED and not row.checked_in and _in_window(session, now)
    row.can_cancel = role in ACTIVE and session.status == SessionStatus.SCHEDULED and session.starts_at > now
    return row


def _waitlist_positions(user: Any, session_ids: list[Any]) -> dict[Any, int]:
    """The viewer's place on each waiting list (one query for all of them)."""
    if not session_ids:
        return {}
    queue = (
        Registration.objects.filter(session_id__in=session_ids, status=RegistrationStatus.WAITLISTED)
        .order_by("session_id", "waitlisted_at", "id")
        .values_list("session_id", "user_id")
    )
    positions: dict[Any, int] = {}
    counts: dict[Any, int] = {}
    for session_id, user_id in queue:
        counts[session_id] = counts.get(session_id, 0) + 1
        if user_id == user.pk:
            positions[session_id] = counts[session_id]
    return positions


def my_session_rows(user: Any, now: datetime) -> tuple[list[SessionRow], list[SessionRow]]:
    """The viewer's upcoming (not ended; cancelled ones while recent) and past sessions (the
    last ical.PAST_DAYS days), hosted or with a place; a constant number of queries."""
    sessions = list(
        ical.with_my_registration(Session.objects.select_related("program"), user)
        .annotate(attended=FilteredRelation("attendance", condition=Q(attendance__user_id=user.pk)))
        .annotate(my_attendance=F("attended__status"))
        .filter(Q(host_id=user.pk) | Q(my_status__in=ACTIVE))
        .filter(ends_at__gte=now - timedelta(days=ical.PAST_DAYS))
        .exclude(status=SessionStatus.CANCELLED, cancelled_at__lt=now - timedelta(days=ical.CANCELLED_DAYS))
        .order_by("starts_at", "id")
    )
    waitlisted = [s.pk for s in sessions if s.host_id != user.pk and s.my_status == RegistrationStatus.WAITLISTED]
    positions = _waitlist_positions(user, waitlisted)
    rows = [_row(s, user, now, positions) for s in _with_zone_notes(sessions)]
    upcoming = [r for r in rows if r.session.ends_at > now]
    past = [r for r in rows if r.session.ends_at <= now and not r.cancelled]
    past.reverse()  # most recent first
    return upcoming, past


def open_events(user: Any, now: datetime) -> list[Session]:
    """Upcoming open events of active programs the viewer neither hosts nor holds a place at,
    with `registered` counted in the same query."""
    mine = Registration.objects.filter(session_id=OuterRef("pk"), user_id=user.pk, status__in=ACTIVE)
    events = (
        Session.objects.select_related("program")
        .filter(
            open_registration=True,
            status=SessionStatus.SCHEDULED,
            ends_at__gt=now,
            program__status=ProgramStatus.ACTIVE,
        )
        .exclude(host_id=user.pk)
        .exclude(Exists(mine))
        .annotate(registered=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED)))
        .order_by("starts_at", "id")[:OPEN_EVENTS_LIMIT]
    )
    events = _with_zone_notes(list(events))
    for event in events:
        event.places_left = None if event.capacity is None else max(event.capacity - event.registered, 0)
    return events


def pending_confirmations(user: Any, now: datetime) -> list[HostConfirmation]:
    """The viewer's host confirmations still to answer (before their deadline)."""
    confirmations = list(
        HostConfirmation.objects.filter(host_id=user.pk, status=ConfirmationStatus.PENDING, deadline__gt=now)
        .select_related("session__program")
        .order_by("deadline", "session__starts_at", "id")
    )
    _with_zone_notes([c.session for c in confirmations])
    return confirmations


def feed_url(feed: CalendarFeed | None) -> str:
    if feed is None:
        return ""
    return settings.SITE_URL + reverse("calendar-feed", kwargs={"token": feed.token})


@login_required
@require_safe
def my_sessions(request):
    now = clock.now()
    upcoming, past = my_session_rows(request.user, now)
    url = feed_url(active_feed(request.user))
    return render(
        request,
        "scheduling/my_sessions.html",
        {
            "now": now,
            "upcoming": upcoming,
            "past": past,
            "open_events": open_events(request.user, now),
            "confirmations": pending_confirmations(request.user, now),
            "feed_url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[1] if url else "",
            "join_opens_minutes": int(JOIN_OPENS_BEFORE.total_seconds() // 60),
        },
    )


# --- Actions (POST, then back to the page) ------------------------------------------------------


def _back():
    return redirect("my-sessions")


def _report(request, exc: DomainError) -> None:
    if isinstance(exc, NotFound):
        raise Http404(exc.detail)
    messages.error(request, " ".join(exc.errors.values()) if exc.errors else exc.detail)


@login_required
@require_POST
def register(request, session_id):
    session = get_object_or_404(Session, pk=session_id)
    # "Register" asks for a place only; the waiting list is joined on purpose (its own button).
    waitlist = request.POST.get("waitlist") == "1"
    try:
        registration = registration_create(
            session=session, user=request.user, actor=request.user, source=RegistrationSource.SELF, waitlist=waitlist
        )
    except DomainError as exc:
        _report(request, exc)
        return _back()
    if registration.status == RegistrationStatus.REGISTERED:
        messages.success(request, f"You are registered for {session.title}.")
    else:
        position = _waitlist_positions(request.user, [session.pk]).get(session.pk)
        messages.success(request, f"{session.title} is full: you are number {position} on the waiting list.")
    return _back()


@login_required
@require_POST
def cancel(request, session_id):
    registration = get_object_or_404(
        Registration.objects.select_related("session"), session_id=session_id, user_id=request.user.pk
    )
    previous = registration.status
    try:
        registration_cancel(registration=registration, actor=request.user, reason="cancelled by the participant")
    except DomainError as exc:
        _report(request, exc)
        return _back()
    if previous == RegistrationStatus.WAITLISTED:
        messages.success(request, f"You left the waiting list of {registration.session.title}.")
    elif previous == RegistrationStatus.REGISTERED:
        messages.success(request, f"Your place at {registration.session.title} is cancelled.")
    else:
        messages.info(request, f"You had no place at {registration.session.title}.")
    return _back()


@login_required
@require_POST
def check_in(request, session_id):
    session = get_object_or_404(Session, pk=session_id)
    try:
        attendance_self_check_in(session=session, user=request.user)
    except DomainError as exc:
        _report(request, exc)
        return _back()
    messages.success(request, f"You are checked in to {session.title}.")
    return _back()


@login_required
@require_POST
def confirmation_decide(request, confirmation_id):
    confirmation = get_object_or_404(
        HostConfirmation.objects.select_related("session"), pk=confirmation_id, host_id=request.user.pk
    )
    decision = request.POST.get("decision", "")
    try:
        host_confirmation_decide(
            confirmation=confirmation,
            user=request.user,
            decision=decision,
            reason=request.POST.get("reason", "").strip(),
        )
    except DomainError as exc:
        _report(request, exc)
        return _back()
    title = confirmation.session.title
    if decision == ConfirmationStatus.CONFIRMED:
        messages.success(request, f"Thank you: you confirmed that you host {title}.")
    else:
        messages.success(request, f"You declined {title}; the program's operators will find another host.")
    return _back()


@login_required
@require_POST
def feed_issue(request):
    calendar_feed_get_or_create(request.user)
    messages.success(request, "Your calendar address is ready: add it to your calendar app as a subscription.")
    return _back()


@login_required
@require_POST
def feed_revoke(request):
    if calendar_feed_revoke(request.user) is not None:
        messages.success(request, "Your calendar address no longer works. Calendars subscribed to it stop updating.")
    return _back()


# --- Calendar files -----------------------------------------------------------------------------


def _ics(body: bytes, *, filename: str | None = None, private: bool = True) -> HttpResponse:
    response = HttpResponse(body, content_type=ical.CONTENT_TYPE)
    response["Cache-Control"] = "private, no-cache" if private else "public, max-age=900"
    if private:
        response["X-Robots-Tag"] = "noindex"
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def calendar_feed(request, token: str):
    """A person's private feed; the token in the address is the only key (no sign-in, so
    calendar apps can fetch it). An unknown or revoked token is a 404."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404("No calendar with this address.")
    entries = ical.user_feed_entries(feed.user, now=clock.now())
    return _ics(ical.user_calendar(feed.user, entries))


@require_safe
def program_feed(request, program_key: str):
    program = ical.public_program(program_key)
    if program is None:
        raise Http404("No active program with this key.")
    sessions = ical.program_feed_sessions(program, now=clock.now())
    return _ics(ical.program_calendar(program, sessions), private=False)


@login_required
@require_safe
def session_file(request, session_id):
    entry = ical.session_entry(request.user, session_id)
    if entry is None:
        raise Http404("No session of yours with this id.")
    return _ics(ical.session_calendar(entry), filename=f"session-{entry.session.pk}.ics")
