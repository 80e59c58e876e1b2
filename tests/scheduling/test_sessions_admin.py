"""The session admin: a list at constant query cost with start times in the program's zone, the
change page (registrations in waitlist order, confirmations, audit), saves and actions through the
session services, and the attendance grid (GET, POST through `attendance_record`, errors as
messages, change permission required)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.services import user_grant_role
from core.models import AuditEntry
from scheduling.models import Attendance, AvailabilityWindow, HostConfirmation, Registration, Session
from scheduling.services import attendance_record, attendance_self_check_in, registration_create, session_create

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 18:00 in Kyiv (UTC+2 in winter)


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def grid_url(session) -> str:
    return reverse("admin:scheduling_session_attendance", args=[session.pk])


def messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def cells(html: str, column: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", unescape(c)).strip()
        for c in re.findall(rf'<td class="field-{column}[^"]*">(.*?)</td>', html, re.S)
    ]


@pytest.fixture
def kyiv(make_program, mentorship_template):
    return make_program(mentorship_template, name="Kyiv lessons", timezone="Europe/Kyiv")


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.org", full_name="Hana Host")


@pytest.fixture
def event(kyiv, host, frozen):
    return session_create(
        program=kyiv,
        kind="live_event",
        title="Live read",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        capacity=2,
        host=host,
    )


@pytest.fixture
def people(make_user, event, frozen):
    users = [make_user(email=f"{name}@example.org") for name in ("ann", "bob", "cem", "dan")]
    for n, user in enumerate(users):
        frozen(datetime(2026, 3, 2, 9, 30 + n, tzinfo=UTC))
        registration_create(session=event, user=user)
    return users  # cem and dan wait, in that order


def _form_data(session, **changes) -> dict:
    zone_start = session.starts_at.astimezone(ZoneInfo(session.timezone))
    zone_end = session.ends_at.astimezone(ZoneInfo(session.timezone))
    data = {
        "title": session.title,
        "description": session.description,
        "starts_at_0": zone_start.strftime("%Y-%m-%d"),
        "starts_at_1": zone_start.strftime("%H:%M:%S"),
        "ends_at_0": zone_end.strftime("%Y-%m-%d"),
        "ends_at_1": zone_end.strftime("%H:%M:%S"),
        "timezone": session.timezone,
        "capacity": "" if session.capacity is None else str(session.capacity),
        "host": str(session.host_id) if session.host_id else "",
        "location": session.location,
        "registrations-TOTAL_FORMS": "0",
        "registrations-INITIAL_FORMS": "0",
        "host_confirmations-TOTAL_FORMS": "0",
        "host_confirmations-INITIAL_FORMS": "0",
    }
    if session.online:
        data["online"] = "on"
    if session.open_registration:
        data["open_registration"] = "on"
    data.update(changes)
    return data


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_program_time_places_and_confirmation(admin_client, event, people):
    response = admin_client.get(url(Session, "changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert cells(html, "local_start") == ["2026-03-10 18:00 EET"]
    assert cells(html, "places") == ["2 / 2"]
    assert cells(html, "confirmation") == ["Waiting for the host"]
    assert cells(html, "attendance_column") == ["Grid"]
    assert grid_url(event) in html

    filtered = admin_client.get(url(Session, "changelist"), {"confirmation": "declined"})
    assert cells(filtered.content.decode(), "local_start") == []
    searched = admin_client.get(url(Session, "changelist"), {"q": "hana"})  # the host's name
    assert cells(searched.content.decode(), "local_start") == ["2026-03-10 18:00 EET"]
    searched = admin_client.get(url(Session, "changelist"), {"q": "nobody"})
    assert cells(searched.content.decode(), "local_start") == []


def test_the_list_costs_constant_queries(admin_client, kyiv, make_user, frozen, django_assert_max_num_queries):
    admin_client.get(url(Session, "changelist"))  # warm caches (content types, session)

    def list_queries(count: int) -> int:
        existing = Session.objects.count()
        for n in range(existing, count):
            start = START + timedelta(days=n)
            session = session_create(
                program=kyiv,
                kind="live_event",
                title=f"Event {n}",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                host=make_user(email=f"h{n}@example.org"),
            )
            registration_create(session=session, user=make_user(email=f"p{n}@example.org"))
        with django_assert_max_num_queries(20) as captured:
            response = admin_client.get(url(Session, "changelist"))
        assert len(cells(response.content.decode(), "local_start")) == count
        return len(captured.captured_queries)

    assert list_queries(2) == list_queries(9)


# --- The change page ----------------------------------------------------------------------------


def test_the_change_page_shows_registrations_confirmations_and_audit(admin_client, event, people):
    response = admin_client.get(url(Session, "change", event.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert cells(html, "participant") == ["ann@example.org", "bob@example.org", "cem@example.org", "dan@example.org"]
    assert cells(html, "status")[:4] == ["Registered", "Registered", "On the waiting list", "On the waiting list"]
    assert cells(html, "waitlist_position") == ["-", "-", "1", "2"]
    assert "Waiting for the host" in html  # the host confirmation inline
    assert "session.scheduled" in html  # the audit trail
    assert "2026-03-10 18:00 EET" in html  # local times
    assert 'data-testid="attendance-grid-link"' in html
    assert "0 of 2 registered participant(s) recorded." in html


def test_adding_goes_through_the_service_in_the_sessions_zone(admin_client, kyiv, host, frozen):
    response = admin_client.post(
        url(Session, "add"),
        {
            "program": str(kyiv.pk),
            "kind": "lesson",
            "title": "Admin lesson",
            "starts_at_0": "2026-03-30",  # the day after Kyiv moves to summer time (UTC+3)
            "starts_at_1": "18:00",
            "ends_at_0": "2026-03-30",
            "ends_at_1": "19:00",
            "timezone": "",
            "capacity": "5",
            "host": str(host.pk),
            "online": "on",
            "open_registration": "",
        },
        follow=True,
    )
    assert response.status_code == 200, response.content
    session = Session.objects.get(title="Admin lesson")
    assert (session.starts_at, session.ends_at, session.timezone, session.capacity, session.open_registration) == (
        datetime(2026, 3, 30, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 16, 0, tzinfo=UTC),
        "Europe/Kyiv",
        5,
        False,  # by kind: lessons are invited only
    )
    entry = AuditEntry.objects.get(target_id=str(session.pk), action="session.scheduled")
    assert entry.actor_label == "admin@example.com"
    assert HostConfirmation.objects.filter(session=session, host=host, status="pending").count() == 1


def test_adding_reports_a_busy_host_as_a_message(admin_client, event, host, kyiv):
    response = admin_client.post(
        url(Session, "add"),
        {
            "program": str(kyiv.pk),
            "kind": "lesson",
            "title": "Clash",
            "starts_at_0": "2026-03-10",
            "starts_at_1": "18:30",
            "ends_at_0": "2026-03-10",
            "ends_at_1": "19:30",
            "timezone": "Europe/Kyiv",
            "host": str(host.pk),
            "online": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert not Session.objects.filter(title="Clash").exists()
    [message] = messages(response)
    assert message.startswith("host@example.org already hosts 'Live read'")


def test_changing_reschedules_through_the_service(admin_client, event, people):
    data = _form_data(event, starts_at_1="19:00:00", ends_at_1="20:00:00", title="Live read (moved)")
    response = admin_client.post(url(Session, "change", event.pk), data, follow=True)
    assert response.status_code == 200, response.content
    event.refresh_from_db()
    assert (event.title, event.starts_at, event.sequence) == ("Live read (moved)", START + timedelta(hours=1), 1)
    entry = AuditEntry.objects.get(target_id=str(event.pk), action="session.rescheduled")
    assert entry.actor_label == "admin@example.com"
    assert entry.changes["title"] == ["Live read", "Live read (moved)"]

    # Saving without a change leaves the session as it is.
    admin_client.post(url(Session, "change", event.pk), _form_data(event), follow=True)
    event.refresh_from_db()
    assert event.sequence == 1


def test_shrinking_below_the_registered_is_refused_with_the_services_message(admin_client, event, people):
    response = admin_client.post(url(Session, "change", event.pk), _form_data(event, capacity="1"), follow=True)
    assert response.status_code == 200
    assert messages(response) == [
        "The request has invalid fields. capacity: 2 people are registered; cancel registrations before "
        "shrinking below that."
    ]
    event.refresh_from_db()
    assert event.capacity == 2


# --- Actions ------------------------------------------------------------------------------------


def run_action(client, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in objects], **extra}
    return client.post(url(Session, "changelist"), data, follow=True)


def test_cancel_asks_for_a_reason(admin_client, event, people):
    response = run_action(admin_client, "cancel", [event])
    assert messages(response) == [
        "Live read (2026-03-10 16:00 UTC): The request has invalid fields. reason: Say why the session is "
        "cancelled; participants are told."
    ]
    assert Session.objects.get(pk=event.pk).status == "scheduled"

    response = run_action(admin_client, "cancel", [event], reason="Speaker ill")
    assert messages(response) == ["Cancelled 1 session(s)."]
    event.refresh_from_db()
    assert (event.status, event.cancel_reason) == ("cancelled", "Speaker ill")
    entry = AuditEntry.objects.get(target_id=str(event.pk), action="session.cancelled")
    assert (entry.actor_label, entry.reason) == ("admin@example.com", "Speaker ill")
    assert HostConfirmation.objects.get(session=event).status == "withdrawn"


def test_deliver_needs_attendance_unless_skipped(admin_client, admin_user, event, people, frozen):
    ann, bob, _, _ = people
    frozen(START + timedelta(hours=2))
    response = run_action(admin_client, "deliver", [event])
    assert messages(response) == [
        "Live read (2026-03-10 16:00 UTC): Attendance is missing for 2 of 2 registered participant(s); "
        "record it, or mark the session delivered with attendance skipped."
    ]
    attendance_record(
        session=event,
        records=[{"user_id": ann.pk, "status": "present"}, {"user_id": bob.pk, "status": "absent"}],
        actor=admin_user,
    )
    response = run_action(admin_client, "deliver", [event])
    assert messages(response) == ["Marked 1 session(s) delivered."]
    event.refresh_from_db()
    assert (event.status, event.attendance_skipped) == ("delivered", False)


def test_deliver_skipping_attendance(admin_client, event, people, frozen):
    frozen(START + timedelta(hours=2))
    response = run_action(admin_client, "deliver_skipping_attendance", [event], reason="Recording lost")
    assert messages(response) == ["Marked 1 session(s) delivered, attendance skipped."]
    event.refresh_from_db()
    assert (event.status, event.attendance_skipped) == ("delivered", True)


# --- The attendance grid ------------------------------------------------------------------------


def test_the_grid_lists_registered_participants(admin_client, event, people, frozen):
    ann, bob, cem, _ = people
    frozen(START + timedelta(minutes=2))
    attendance_self_check_in(session=event, user=bob)
    response = admin_client.get(grid_url(event))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="row-{ann.pk}"' in html and f'data-testid="row-{bob.pk}"' in html
    assert f'data-testid="row-{cem.pk}"' not in html  # waitlisted
    assert f'name="status-{bob.pk}" value="present" checked' in html  # the self check-in
    assert "Self check-in at 16:02 UTC" in html
    assert f'name="status-{ann.pk}" value="" checked' in html
    assert "2026-03-10 18:00 EET" in html


def test_the_grid_saves_through_attendance_record(admin_client, event, people, frozen):
    ann, bob, _, _ = people
    frozen(START + timedelta(minutes=70))
    response = admin_client.post(
        grid_url(event),
        {f"status-{ann.pk}": "late", f"minutes-{ann.pk}": "45", f"status-{bob.pk}": "", f"minutes-{bob.pk}": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert messages(response) == ["Attendance saved for 1 participant(s)."]
    assert list(Attendance.objects.values_list("user_id", "status", "minutes_attended", "source")) == [
        (ann.pk, "late", 45, "operator")
    ]
    assert AuditEntry.objects.get(action="attendance.recorded").actor_label == "admin@example.com"

    # "Mark the rest present": bob, not yet recorded, becomes present; ann keeps her record.
    response = admin_client.post(
        grid_url(event),
        {f"status-{ann.pk}": "late", f"minutes-{ann.pk}": "45", "_all_present": "1"},
        follow=True,
    )
    assert messages(response) == ["Attendance saved for 2 participant(s)."]
    assert sorted(Attendance.objects.values_list("user_id", "status")) == sorted(
        [(ann.pk, "late"), (bob.pk, "present")]
    )


def test_grid_errors_show_as_messages_and_keep_the_input(admin_client, event, people, frozen):
    ann, bob, _, _ = people
    frozen(START + timedelta(minutes=70))
    response = admin_client.post(
        grid_url(event),
        {f"status-{ann.pk}": "present", f"minutes-{ann.pk}": "61", f"status-{bob.pk}": "", f"minutes-{bob.pk}": "5"},
    )
    assert response.status_code == 200
    assert messages(response) == ["bob@example.org: Choose a status for these minutes."]
    assert Attendance.objects.count() == 0

    response = admin_client.post(grid_url(event), {f"status-{ann.pk}": "present", f"minutes-{ann.pk}": "61"})
    assert messages(response) == ["ann@example.org: Minutes attended are a whole number from 0 to 60."]
    html = response.content.decode()
    assert f'name="minutes-{ann.pk}" value="61"' in html
    assert f'data-testid="error-{ann.pk}"' in html
    assert Attendance.objects.count() == 0


def test_the_grid_refuses_a_session_not_started(admin_client, event, people):
    ann = people[0]
    response = admin_client.post(grid_url(event), {f"status-{ann.pk}": "present"}, follow=True)
    assert messages(response) == [
        "The session has not started yet (it starts at 2026-03-10T16:00:00+00:00); attendance is recorded once it "
        "starts."
    ]
    assert Attendance.objects.count() == 0


def test_the_grid_needs_the_change_permission(client, make_user, event):
    reviewer = make_user(email="reviewer@example.org", role="reviewer", is_staff=True)
    client.force_login(reviewer)
    assert client.get(url(Session, "changelist")).status_code == 200  # may view
    assert client.get(grid_url(event)).status_code == 403
    operator = make_user(email="op@example.org", role="operator", is_staff=True)
    client.force_login(operator)
    assert client.get(grid_url(event)).status_code == 200
    outsider = make_user(email="nostaff@example.org")
    user_grant_role(user=outsider, role="operator")
    client.force_login(outsider)
    assert client.get(grid_url(event)).status_code == 302  # not staff: to the admin login


# --- Read-mostly admins -------------------------------------------------------------------------


def test_record_admins_answer_and_are_read_only(admin_client, event, people, frozen, make_user):
    frozen(START + timedelta(minutes=5))
    [record] = attendance_record(
        session=event, records=[{"user_id": people[0].pk, "status": "present"}], actor=make_user()
    )
    AvailabilityWindow.objects.create(
        owner=people[0],
        kind="weekly",
        weekday=0,
        start_time="18:00",
        end_time="20:00",
        timezone="Europe/Kyiv",
        valid_from="2026-03-01",
    )
    registration = Registration.objects.get(session=event, user=people[2])
    confirmation = HostConfirmation.objects.get(session=event)
    for model, obj in (
        (Registration, registration),
        (Attendance, record),
        (HostConfirmation, confirmation),
        (AvailabilityWindow, AvailabilityWindow.objects.get()),
    ):
        assert admin_client.get(url(model, "changelist")).status_code == 200
        assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
        assert admin_client.get(url(model, "add")).status_code == 403
    html = admin_client.get(url(Registration, "changelist")).content.decode()
    assert sorted(cells(html, "position")) == ["-", "-", "1", "2"]


def test_registration_cancel_action_promotes_the_waitlist(admin_client, event, people):
    ann, _, cem, _ = people
    registration = Registration.objects.get(session=event, user=ann)
    response = admin_client.post(
        url(Registration, "changelist"),
        {"action": "cancel", "_selected_action": [str(registration.pk)], "reason": "asked by phone"},
        follow=True,
    )
    assert messages(response) == ["Cancelled 1 registration(s)."]
    assert Registration.objects.get(pk=registration.pk).status == "cancelled"
    assert Registration.objects.get(session=event, user=cem).status == "registered"
