"""Read use-cases of scheduling: cohorts (with their active member counts, members, due
transitions) and sessions (with their registration counts, registrations with waiting-list
positions, a person's own sessions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db.models import Case, Count, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from core.middleware import valid_timezone
from scheduling.enums import CohortMemberStatus, CohortStatus, RegistrationStatus, SessionStatus
from scheduling.models import Cohort, CohortMember, HostConfirmation, Registration, Session


def cohort_list() -> QuerySet[Cohort]:
    """Cohorts with `active_members` counted in the same query."""
    return Cohort.objects.annotate(
        active_members=Count("members", filter=Q(members__status=CohortMemberStatus.ACTIVE))
    ).order_by("starts_on", "name", "id")


def cohorts_of_program(program_id) -> QuerySet[Cohort]:
    return cohort_list().filter(program_id=program_id)


def cohort_member_list(cohort: Cohort) -> QuerySet[CohortMember]:
    return CohortMember.objects.filter(cohort=cohort).select_related("enrollment").order_by("joined_at", "id")


def program_local_date(timezone_name: str, now: datetime) -> date:
    """The calendar date at `now` where the program is (UTC if its zone is unknown)."""
    zone = valid_timezone(timezone_name)
    return now.astimezone(zone or UTC).date()


def _horizon(now: datetime) -> date:
    # No time zone is more than a day ahead of UTC (UTC+14), so no cohort due anywhere starts
    # (or ends) after tomorrow's UTC date; the exact check per program happens in Python.
    return now.astimezone(UTC).date() + timedelta(days=1)


def cohorts_due_to_start(now: datetime) -> list[Cohort]:
    """Planned cohorts whose start date has come in their program's time zone."""
    candidates = Cohort.objects.select_related("program").filter(
        status=CohortStatus.PLANNED, starts_on__lte=_horizon(now)
    )
    return [
        c for c in candidates.order_by("starts_on", "id") if c.starts_on <= program_local_date(c.program.timezone, now)
    ]


def cohorts_due_to_complete(now: datetime) -> list[Cohort]:
    """Active cohorts whose end date has passed in their program's time zone."""
    candidates = Cohort.objects.select_related("program").filter(status=CohortStatus.ACTIVE, ends_on__lt=_horizon(now))
    return [c for c in candidates.order_by("ends_on", "id") if c.ends_on < program_local_date(c.program.timezone, now)]


# --- Sessions and registrations -----------------------------------------------------------------

# The join link of a session shows from this long before its start until its end.
JOIN_OPENS_BEFORE = timedelta(minutes=15)

UPCOMING, PAST = "upcoming", "past"


def waitlist_position() -> Case:
    """An annotation for registrations: the 1-based place on the session's waiting list (the
    order promotion follows: time joined, then id), or None when not waitlisted."""
    ahead = (
        Registration.objects.filter(session_id=OuterRef("session_id"), status=RegistrationStatus.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=OuterRef("waitlisted_at"))
            | Q(waitlisted_at=OuterRef("waitlisted_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .annotate(n=Func(F("id"), function="COUNT"))
        .values("n")
    )
    return Case(
        When(status=RegistrationStatus.WAITLISTED, then=Coalesce(Subquery(ahead), 0) + 1),
        default=None,
        output_field=IntegerField(),
    )


def _counted(sessions: QuerySet[Session]) -> QuerySet[Session]:
    return sessions.annotate(
        registered_count=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED)),
        waitlisted_count=Count("registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)),
    )


def session_list() -> QuerySet[Session]:
    """Sessions with `registered_count` and `waitlisted_count` counted in the same query."""
    return _counted(Session.objects.all()).order_by("starts_at", "id")


def sessions_of_program(program_id) -> QuerySet[Session]:
    return session_list().filter(program_id=program_id)


def session_registration_summary(session: Session) -> dict[str, int | None]:
    """How many people are registered, waitlisted and cancelled, and the places left (None: no
    limit)."""
    counts = dict(
        Registration.objects.filter(session_id=session.pk)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    registered = counts.get(RegistrationStatus.REGISTERED, 0)
    return {
        "registered_count": registered,
        "waitlisted_count": counts.get(RegistrationStatus.WAITLISTED, 0),
        "cancelled_count": counts.get(RegistrationStatus.CANCELLED, 0),
        "places_left": None if session.capacity is None else max(session.capacity - registered, 0),
    }


def latest_host_confirmation(session: Session) -> HostConfirmation | None:
    """The newest confirmation request of the session's current host."""
    if session.host_id is None:
        return None
    return (
        HostConfirmation.objects.filter(session_id=session.pk, host_id=session.host_id)
        .order_by("-created_at", "-id")
        .first()
    )


def session_registrations(session: Session) -> QuerySet[Registration]:
    """A session's registrations with `waitlist_position`: registered people first (in the order
    they got their place), then the waiting list in order, then cancelled ones."""
    rank = Case(
        When(status=RegistrationStatus.REGISTERED, then=Value(0)),
        When(status=RegistrationStatus.WAITLISTED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        Registration.objects.filter(session_id=session.pk)
        .select_related("user")
        .annotate(waitlist_position=waitlist_position(), rank=rank)
        .order_by("rank", "registered_at", "waitlisted_at", "cancelled_at", "id")
    )


def registration_with_position(registration_id) -> Registration:
    return Registration.objects.annotate(waitlist_position=waitlist_position()).get(pk=registration_id)


def my_registration(session: Session, user) -> Registration | None:
    """The user's registration at the session (any status), with `waitlist_position`."""
    return (
        Registration.objects.filter(session_id=session.pk, user_id=user.pk)
        .annotate(waitlist_position=waitlist_position())
        .first()
    )


def _my_session_ids(user) -> QuerySet:
    """Ids of the sessions a person is registered or waitlisted for, or hosts, as one subquery
    (a UNION of two index lookups: `EXISTS (...) OR host_id = ...` made PostgreSQL scan every
    session)."""
    registered = (
        Registration.objects.filter(
            user_id=user.pk, status__in=(RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
        )
        .order_by()
        .values("session_id")
    )
    return registered.union(Session.objects.filter(host_id=user.pk).order_by().values("id"))


def my_sessions(user, *, when: str | None = None, now: datetime) -> QuerySet[Session]:
    """The sessions a person takes part in (registered or waitlisted, whatever became of the
    session) or hosts, in one query: each carries `registered_count`, `waitlisted_count`,
    `my_registration_id`, `my_registration_status`, `my_waitlist_position` (None unless
    waitlisted) and, for hosts, `my_confirmation_status` and `my_confirmation_deadline` (the
    newest request). `when`: `upcoming` (not ended yet, soonest first) or `past` (ended, latest
    first); None: all, in time order."""
    mine = Registration.objects.filter(
        session_id=OuterRef("pk"),
        user_id=user.pk,
        status__in=(RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED),
    )
    ahead = (
        Registration.objects.filter(session_id=OuterRef("pk"), status=RegistrationStatus.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=OuterRef("my_waitlisted_at"))
            | Q(waitlisted_at=OuterRef("my_waitlisted_at"), id__lt=OuterRef("my_registration_id"))
        )
        .order_by()
        .annotate(n=Func(F("id"), function="COUNT"))
        .values("n")
    )
    confirmation = HostConfirmation.objects.filter(session_id=OuterRef("pk"), host_id=user.pk).order_by(
        "-created_at", "-id"
    )
    sessions = (
        _counted(Session.objects.filter(pk__in=_my_session_ids(user)))
        .annotate(
            my_registration_id=Subquery(mine.values("id")[:1]),
            my_registration_status=Subquery(mine.values("status")[:1]),
            my_waitlisted_at=Subquery(mine.values("waitlisted_at")[:1]),
        )
        .annotate(
            my_waitlist_position=Case(
                When(my_registration_status=RegistrationStatus.WAITLISTED, then=Coalesce(Subquery(ahead), 0) + 1),
                default=None,
                output_field=IntegerField(),
            ),
            my_confirmation_status=Subquery(confirmation.values("status")[:1]),
            my_confirmation_deadline=Subquery(confirmation.values("deadline")[:1]),
        )
    )
    if when == UPCOMING:
        return sessions.filter(ends_at__gt=now).order_by("starts_at", "id")
    if when == PAST:
        return sessions.filter(ends_at__lte=now).order_by("-starts_at", "-id")
    return sessions.order_by("starts_at", "id")


def join_link_open(session: Session, now: datetime) -> bool:
    """Whether the session's join link is shown now: a scheduled session, from
    `JOIN_OPENS_BEFORE` before its start until its end."""
    return session.status == SessionStatus.SCHEDULED and session.starts_at - JOIN_OPENS_BEFORE <= now < session.ends_at
