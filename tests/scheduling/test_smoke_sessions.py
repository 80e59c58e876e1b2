from datetime import UTC, datetime, timedelta

from scheduling.enums import RegistrationStatus, SessionStatus
from scheduling.models import HostConfirmation, SessionReminder
from scheduling.services import (
    registration_cancel,
    registration_create,
    session_cancel,
    session_create,
    session_series_create,
    session_update,
)


def test_smoke(program, make_user, frozen):
    host = make_user(email="host@example.org")
    a, b = make_user(), make_user()
    start = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    s = session_create(program=program, kind="live_event", title="Live read", starts_at=start,
                       ends_at=start + timedelta(hours=1), capacity=1, host=host)
    assert s.join_url.startswith("https://meet.jit.si/programs-")
    assert HostConfirmation.objects.filter(session=s, status="pending").count() == 1
    ra = registration_create(session=s, user=a)
    rb = registration_create(session=s, user=b)
    assert (ra.status, rb.status) == (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
    registration_cancel(registration=ra)
    rb.refresh_from_db()
    assert rb.status == RegistrationStatus.REGISTERED
    s = session_update(session=s, data={"starts_at": start + timedelta(days=1), "ends_at": start + timedelta(days=1, hours=1)})
    assert s.sequence == 1
    s = session_cancel(session=s, reason="Speaker ill")
    assert s.status == SessionStatus.CANCELLED
    assert SessionReminder.objects.filter(session=s, kind="cancellation").count() == 1
    series = session_series_create(program=program, kind="cohort_session", title="Weekly", timezone="Europe/Kyiv",
        starts_at=datetime(2026, 3, 19, 16, 0, tzinfo=UTC), ends_at=datetime(2026, 3, 19, 17, 0, tzinfo=UTC),
        recurrence={"count": 3}, host=host)
    assert [x.starts_at.astimezone(UTC).hour for x in series] == [16, 16, 15]
