"""Host confirmation: the host confirms or declines before the deadline (audited, one
`coaching.lesson.confirmation_decided` each), a decline or a missed deadline alerts every active
operator once, and the deadline job is safe to run twice at once (raced on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from accounts.services import user_update
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs import job_registry, run_job
from core.models import AuditEntry
from crm_sync import registry as event_registry
from crm_sync.models import OutboxEvent
from notifications.models import Notification
from scheduling import notices
from scheduling.models import HostConfirmation
from scheduling.services import host_confirmation_decide, host_confirmations_expire, session_create, session_update

START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
# The clock stands at 2026-03-02 09:30 UTC; requests are due 48 hours later.
DEADLINE = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org", full_name="Hana Host")


@pytest.fixture
def operators(make_user):
    """Two active operators and one deactivated (never alerted)."""
    active = [make_user(email=f"op{n}@example.org", role="operator", is_staff=True) for n in (1, 2)]
    user_update(user=make_user(email="gone@example.org", role="operator"), data={"is_active": False})
    return active


@pytest.fixture
def session(program, host, frozen):
    return session_create(
        program=program,
        kind="lesson",
        title="Lesson one",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        host=host,
        timezone="Europe/Kyiv",
    )


@pytest.fixture
def request_(session) -> HostConfirmation:
    return HostConfirmation.objects.get(session=session, status="pending")


def _decided_events():
    return list(OutboxEvent.objects.filter(event_type="coaching.lesson.confirmation_decided").order_by("created_at"))


def _schema_errors(payload: dict) -> dict:
    version = event_registry.registry().get("coaching.lesson.confirmation_decided").active
    return event_registry.validation_errors(version.validator, payload, prefix="")


def _alerts():
    return Notification.objects.filter(kind=notices.HOST_REASSIGN_NEEDED)


@pytest.mark.django_db
def test_assigning_a_host_asks_for_a_confirmation(session, request_, host):
    assert (request_.host_id, request_.status, request_.deadline) == (host.pk, "pending", DEADLINE)
    asked = Notification.objects.filter(user=host, kind=notices.HOST_CONFIRMATION_REQUESTED)
    assert sorted(asked.values_list("channel", flat=True)) == ["dashboard", "email"]


@pytest.mark.django_db
def test_the_host_confirms(session, request_, host, operators, frozen):
    frozen(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    confirmed = host_confirmation_decide(confirmation=request_, user=host, decision="confirmed")
    assert (confirmed.status, confirmed.decided_at, confirmed.reason) == (
        "confirmed",
        datetime(2026, 3, 3, 12, 0, tzinfo=UTC),
        "",
    )
    [event] = _decided_events()
    assert event.payload == {
        "confirmation_id": str(request_.pk),
        "lesson_id": str(session.pk),
        "program_id": str(session.program_id),
        "host_id": str(host.pk),
        "decision": "confirmed",
        "deadline": "2026-03-04T09:30:00+00:00",
        "decided_at": "2026-03-03T12:00:00+00:00",
    }
    assert (event.actor, event.subject_type, event.subject_id) == (f"user:{host.pk}", "session", str(session.pk))
    assert _schema_errors(event.payload) == {}
    entry = AuditEntry.objects.get(action="host_confirmation.confirmed")
    assert (entry.actor_label, entry.target_id, entry.changes) == (
        "host@example.org",
        str(request_.pk),
        {"status": ["pending", "confirmed"], "session": str(session.pk)},
    )
    assert _alerts().count() == 0

    # Answered once: a second answer is a conflict and changes nothing.
    with pytest.raises(Conflict) as caught:
        host_confirmation_decide(confirmation=request_, user=host, decision="declined")
    assert caught.value.detail == "This request was already answered: it is confirmed."
    assert len(_decided_events()) == 1


@pytest.mark.django_db
def test_a_decline_alerts_every_active_operator(session, request_, host, operators, frozen, settings):
    settings.SITE_URL = "https://programs.example.org"
    frozen(DEADLINE)  # the deadline itself is still in time
    declined = host_confirmation_decide(
        confirmation=request_, user=host, decision="declined", reason="  Travelling that week "
    )
    assert (declined.status, declined.reason) == ("declined", "Travelling that week")
    [event] = _decided_events()
    assert (event.payload["decision"], event.payload["reason"]) == ("declined", "Travelling that week")
    assert _schema_errors(event.payload) == {}
    alerts = _alerts().order_by("user__email", "channel")
    assert [(a.user.email, a.channel) for a in alerts] == [
        ("op1@example.org", "dashboard"),
        ("op1@example.org", "email"),
        ("op2@example.org", "dashboard"),
        ("op2@example.org", "email"),
    ]
    email = alerts.get(user=operators[0], channel="email")
    assert email.subject == "A session needs a new host: Lesson one"
    assert f"https://programs.example.org/admin/scheduling/session/{session.pk}/change/" in email.body_text
    assert "Hana Host declined to host Lesson one" in email.body_text
    assert "Reason given: Travelling that week" in email.body_text
    assert AuditEntry.objects.get(action="host_confirmation.declined").reason == "Travelling that week"


@pytest.mark.django_db
def test_only_the_host_answers_only_in_time_and_only_yes_or_no(session, request_, host, make_user, frozen):
    with pytest.raises(NotFound):
        host_confirmation_decide(confirmation=request_, user=make_user(), decision="confirmed")
    with pytest.raises(ValidationFailed) as caught:
        host_confirmation_decide(confirmation=request_, user=host, decision="maybe")
    assert caught.value.errors == {"decision": "Answer confirmed or declined."}
    frozen(DEADLINE + timedelta(seconds=1))
    with pytest.raises(Conflict) as caught:
        host_confirmation_decide(confirmation=request_, user=host, decision="confirmed")
    assert caught.value.detail == "The deadline to answer passed at 2026-03-04T09:30:00+00:00."
    assert HostConfirmation.objects.get(pk=request_.pk).status == "pending"
    assert _decided_events() == []


@pytest.mark.django_db
def test_a_withdrawn_request_cannot_be_answered(session, request_, host, make_user):
    session_update(session=session, data={"host": make_user(email="other@example.org")})
    with pytest.raises(Conflict) as caught:
        host_confirmation_decide(confirmation=request_, user=host, decision="confirmed")
    assert caught.value.detail == "This request was already answered: it is withdrawn."


@pytest.mark.django_db
def test_missed_deadlines_expire_and_alert_once(session, request_, host, operators, frozen):
    assert host_confirmations_expire() == []
    frozen(DEADLINE)
    assert host_confirmations_expire() == []  # due after the deadline, not at it
    frozen(DEADLINE + timedelta(minutes=1))
    assert host_confirmations_expire() == [request_.pk]
    expired = HostConfirmation.objects.get(pk=request_.pk)
    assert (expired.status, expired.decided_at) == ("expired", DEADLINE + timedelta(minutes=1))
    [event] = _decided_events()
    assert event.payload == {
        "confirmation_id": str(request_.pk),
        "lesson_id": str(session.pk),
        "program_id": str(session.program_id),
        "host_id": str(host.pk),
        "decision": "expired",
        "deadline": "2026-03-04T09:30:00+00:00",
        "decided_at": "2026-03-04T09:31:00+00:00",
    }
    assert event.actor == "system:host_confirmation_deadlines"
    assert _schema_errors(event.payload) == {}
    assert _alerts().filter(channel="email").count() == 2
    body = _alerts().get(user=operators[1], channel="email").body_text
    assert "Hana Host did not confirm by the deadline for Lesson one" in body
    entry = AuditEntry.objects.get(action="host_confirmation.expired")
    assert (entry.actor_label, entry.reason) == ("system", "no answer by 2026-03-04T09:30:00+00:00")
    # A second run finds nothing.
    assert host_confirmations_expire() == []
    assert len(_decided_events()) == 1 and _alerts().count() == 4
    with pytest.raises(Conflict):
        host_confirmation_decide(confirmation=request_, user=host, decision="confirmed")


@pytest.mark.django_db(transaction=True)
def test_the_job_is_registered_and_records_its_run(session, request_, operators, frozen):
    assert "host_confirmation_deadlines" in job_registry()
    frozen(DEADLINE + timedelta(hours=1))
    run = run_job("host_confirmation_deadlines")
    assert (run.status, run.counts) == ("succeeded", {"expired": 1})
    assert HostConfirmation.objects.get(pk=request_.pk).status == "expired"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_expire_each_request_once(program, make_user, operators, frozen):
    """Two runs race over the same overdue requests (each thread its own connection): every
    request expires once, one event each, one alert per operator and channel."""
    hosts = [make_user(email=f"h{n}@example.org") for n in range(6)]
    for n, host in enumerate(hosts):
        start = START + timedelta(days=n)
        session_create(
            program=program,
            kind="lesson",
            title=f"L{n}",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            host=host,
        )
    frozen(START + timedelta(days=10))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(host_confirmations_expire())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    expired_ids = [pk for result in results for pk in result]
    assert len(expired_ids) == 6 and len(set(expired_ids)) == 6
    assert HostConfirmation.objects.filter(status="expired").count() == 6
    assert len(_decided_events()) == 6
    # 6 requests x 2 active operators x 2 channels, no duplicates.
    assert _alerts().count() == 24
    assert _alerts().values("user", "dedupe_key").distinct().count() == 24


@pytest.mark.parametrize(
    ("starts_in", "deadline_in"),
    [
        (timedelta(hours=5), timedelta(hours=4)),  # an hour before the start leaves time to reassign
        (timedelta(minutes=40), timedelta(minutes=40)),  # closer than an hour: until the start
    ],
)
def test_the_deadline_of_a_session_starting_soon(program, host, frozen, starts_in, deadline_in):
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    frozen(now)
    soon = session_create(
        program=program,
        kind="lesson",
        title="Soon",
        starts_at=now + starts_in,
        ends_at=now + starts_in + timedelta(hours=1),
        host=host,
    )
    assert HostConfirmation.objects.get(session=soon, status="pending").deadline == now + deadline_in
