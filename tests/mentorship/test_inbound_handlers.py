"""The inbound handlers of partner events, each through the real signed endpoint and
`inbound_process`: people joining, matches starting and ending with source 001's enrollment
rules, events attended, check-ins, feedback, milestones and Kintell sessions; idempotent when
delivered again, corrected when the partner sends changed values, failed (and retried) when a
person or match is not known yet, and never notifying anyone."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from accounts.models import ExternalIdentity, User
from accounts.services import external_identity_link
from crm_sync import hooks
from crm_sync import registry as event_registry
from crm_sync.models import InboundEvent, OutboxEvent
from crm_sync.services import inbound_process, inbound_source_create
from enrollments.models import Enrollment, JourneyFlags
from mentorship.enums import MatchSource, MatchStatus
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone, Profile
from mentorship.partners import handlers
from mentorship.services.lifecycle import activate
from notifications.models import Notification
from tests.crm_sync.inbound_support import BEFORE_CUTOVER, SECRET, envelope, install_clock, post_event

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PARTNER_TYPES = (
    "buddy.user.joined",
    "buddy.match.created",
    "buddy.match.ended",
    "buddy.event.attended",
    "buddy.checkin.completed",
    "buddy.feedback.submitted",
    "buddy.milestone.reached",
    "kintell.session.completed",
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def moved_clock(monkeypatch):
    return install_clock(monkeypatch, NOW)


@pytest.fixture
def sources(db, moved_clock):
    inbound_source_create(key="buddy", secret=SECRET)
    inbound_source_create(key="kintell", secret=SECRET)


@pytest.fixture
def deliver(client, sources):
    """POST a signed event of the type and process it; answers the stored event."""

    def _deliver(event_type: str, payload: dict, *, version: int = 1, source: str = "buddy") -> InboundEvent:
        body = envelope(event_type, version, payload, event_id=f"evt-{uuid.uuid4().hex}")
        response = post_event(client, source, body)
        assert response.status_code == 202, response.content
        event = InboundEvent.objects.get(event_id=body["event_id"])
        return inbound_process(event_id=event.pk)

    return _deliver


def joined(external_id: str, email: str, role: str, **extra) -> dict:
    payload = {"external_id": external_id, "email": email, "name": email.split("@")[0].title(), "role": role}
    payload["joined_at"] = "2026-01-10T09:00:00Z"
    payload.update(extra)
    return payload


def matched(match_id: str = "m-1", participant: str = "p-1", buddy: str = "b-1", when: str = "2026-02-01T10:00:00Z"):
    return {
        "match_id": match_id,
        "participant_external_id": participant,
        "buddy_external_id": buddy,
        "matched_at": when,
    }


def ended(match_id: str = "m-1", reason: str = "completed", when: str = "2026-05-01T10:00:00Z") -> dict:
    return {"match_id": match_id, "ended_at": when, "reason": reason}


@pytest.fixture
def pair(deliver, buddy_program):
    """A participant p-1 and a buddy b-1 who joined the buddy program."""
    assert deliver("buddy.user.joined", joined("p-1", "pia@example.org", "participant")).status == "processed"
    assert deliver("buddy.user.joined", joined("b-1", "ben@example.org", "buddy")).status == "processed"
    return User.objects.get(email="pia@example.org"), User.objects.get(email="ben@example.org")


def state(user) -> tuple:
    e = Enrollment.objects.get(user=user)
    return e.role, e.status, e.completed_at, e.dropped_at, e.reason


def test_every_partner_type_has_a_registered_handler_and_a_schema():
    reg = event_registry.registry()
    for name in PARTNER_TYPES:
        assert hooks.handler_for(name) is handlers.HANDLERS[name]
        event_type = reg.get(name)
        assert (event_type.producer, event_type.consumers) == (name.split(".")[0], ("platform",))
        assert event_type.owning_contract == "docs/integration.md#inbound-partner-events"
        assert event_type.active.validator is not None


def test_a_person_who_joined_is_enrolled_once_and_corrections_update_them(deliver, buddy_program):
    payload = joined(
        "p-1",
        "Pia@Example.org",
        "participant",
        timezone="Europe/Kyiv",
        languages=["UK", "de"],
        program_key="buddy-2026",
    )
    event = deliver("buddy.user.joined", payload)
    assert (event.status, event.error) == ("processed", "")

    user = User.objects.get(email="pia@example.org")
    assert (user.full_name, user.timezone, user.has_usable_password()) == ("Pia", "Europe/Kyiv", False)
    assert list(ExternalIdentity.objects.values_list("provider", "external_id", "user_id")) == [
        ("buddy", "p-1", user.pk)
    ]
    profile = Profile.objects.get(user=user)
    assert (profile.program_id, profile.kind, profile.languages, profile.timezone) == (
        buddy_program.pk,
        "mentee",
        ["uk", "de"],
        "Europe/Kyiv",
    )
    enrollment = Enrollment.objects.get(user=user)
    assert (
        enrollment.role,
        enrollment.status,
        enrollment.source_system,
        enrollment.enrolled_at,
        enrollment.reason,
    ) == (
        "participant",
        "active",
        "buddy",
        at("2026-01-10T09:00:00Z"),
        "Joined on Buddy.",
    )
    assert JourneyFlags.objects.get(user=user).flags["is_buddy_participant"] is True

    again = deliver("buddy.user.joined", {**payload, "name": "Pia Petrenko", "languages": ["uk"]})
    assert again.status == "processed"
    user.refresh_from_db()
    profile.refresh_from_db()
    assert (user.full_name, profile.languages) == ("Pia Petrenko", ["uk"])
    assert (User.objects.count(), Enrollment.objects.count(), Profile.objects.count()) == (1, 1, 1)
    assert Counter(OutboxEvent.objects.values_list("event_type", flat=True)) == {"enrollment.created": 1}
    assert Notification.objects.count() == 0

    as_buddy = deliver("buddy.user.joined", {**payload, "role": "buddy"})
    assert (as_buddy.status, as_buddy.error) == (
        "failed",
        "Conflict: p-1 joined buddy-2026 as participant; a change of role is not imported.",
    )


def test_matches_start_and_end_with_source_001_enrollment_rules(deliver, pair):
    pia, ben = pair
    event = deliver("buddy.match.created", matched(), version=2)
    assert (event.status, event.error) == ("processed", "")
    match = Match.objects.get()
    assert (match.status, match.source, match.external_id, match.mentee_id, match.mentor_id, match.started_at) == (
        MatchStatus.ACTIVE,
        MatchSource.BUDDY,
        "m-1",
        pia.pk,
        ben.pk,
        at("2026-02-01T10:00:00Z"),
    )
    assert state(pia) == ("participant", "active", None, None, "A match is active.")

    # The participant left: both dropped at the match's end.
    assert deliver("buddy.match.ended", ended(reason="participant_left")).status == "processed"
    match.refresh_from_db()
    assert (match.status, match.end_reason, match.ended_at) == ("ended", "mentee_left", at("2026-05-01T10:00:00Z"))
    dropped = (
        "dropped",
        None,
        at("2026-05-01T10:00:00Z"),
        "All their matches ended; the last as mentee_left on 2026-05-01.",
    )
    assert state(pia) == ("participant", *dropped)
    assert state(ben) == ("buddy", *dropped)

    # Matched again: active again; that match completes: completed at its end.
    assert deliver("buddy.match.created", matched("m-2", when="2026-05-10T10:00:00Z"), version=2).status == "processed"
    assert state(pia)[1:4] == ("active", None, None)
    assert deliver("buddy.match.ended", ended("m-2", "completed", "2026-09-01T10:00:00Z")).status == "processed"
    done = ("completed", at("2026-09-01T10:00:00Z"), None, "Their last match ended completed on 2026-09-01.")
    assert state(pia) == ("participant", *done)
    flags = JourneyFlags.objects.get(user=pia).flags
    assert (flags["match_count"], flags["match_active"], flags["feedback_pending"]) == (2, False, True)

    # Delivered again: nothing changes.
    outbox = OutboxEvent.objects.count()
    assert deliver("buddy.match.created", matched("m-2", when="2026-05-10T10:00:00Z"), version=2).status == "processed"
    assert deliver("buddy.match.ended", ended("m-2", "completed", "2026-09-01T10:00:00Z")).status == "processed"
    assert (Match.objects.count(), OutboxEvent.objects.count(), state(pia)) == (2, outbox, ("participant", *done))

    # Corrected by the partner: the end changes and the enrollment follows.
    assert deliver("buddy.match.ended", ended("m-2", "buddy_left", "2026-08-01T10:00:00Z")).status == "processed"
    assert Match.objects.get(external_id="m-2").end_reason == "mentor_left"
    assert state(pia)[1:4] == ("dropped", None, at("2026-08-01T10:00:00Z"))
    assert Counter(OutboxEvent.objects.values_list("event_type", flat=True))["mentorship.match.ended"] == 2
    assert Notification.objects.count() == 0


def test_a_match_of_unknown_or_unenrolled_people_fails_and_is_retried(deliver, pair, make_program, buddy_template):
    unknown = deliver("buddy.match.created", matched(buddy="b-404"), version=2)
    assert (unknown.status, unknown.error) == (
        "failed",
        "NotFound: buddy_external_id b-404: no Buddy user with this id yet (retried later).",
    )
    assert unknown.next_attempt_at is not None
    make_program(buddy_template, name="Buddy Lviv")
    elsewhere = deliver("buddy.match.created", {**matched(), "program_key": "buddy-lviv"}, version=2)
    assert (elsewhere.status, elsewhere.error) == (
        "failed",
        "NotFound: participant_external_id p-1 is not a participant of buddy-lviv (yet).",
    )
    no_end = deliver("buddy.match.ended", ended("m-404"))
    assert no_end.error == "NotFound: match_id m-404: no Buddy match with this id yet (retried later)."
    assert Match.objects.count() == 0


def test_a_match_created_v1_received_before_its_cutover_asks_for_v2(client, sources, moved_clock, buddy_program):
    moved_clock.set(BEFORE_CUTOVER)
    body = envelope(
        "buddy.match.created",
        1,
        {"match_id": "m-1", "participant_id": "p", "buddy_id": "b", "matched_at": "2026-10-09T08:00:00Z"},
        event_id="evt-v1",
    )
    assert post_event(client, "buddy", body).status_code == 202
    event = inbound_process(event_id=InboundEvent.objects.get(event_id="evt-v1").pk)
    assert (event.status, event.error) == (
        "failed",
        "ValidationFailed: buddy.match.created v1 names Buddy's internal ids, which link to nobody; send v2.",
    )


def test_progress_records_are_idempotent_and_follow_corrections(deliver, pair):
    pia, ben = pair
    deliver("buddy.match.created", matched(), version=2)
    checkin = {"checkin_id": "c-1", "match_id": "m-1", "by_external_id": "p-1", "mood": 4, "at": "2026-02-08T10:00:00Z"}
    feedback = {
        "feedback_id": "f-1",
        "match_id": "m-1",
        "author_external_id": "b-1",
        "rating": 5,
        "submitted_at": "2026-03-01T10:00:00Z",
    }
    milestone = {
        "milestone_id": "s-1",
        "user_external_id": "p-1",
        "key": "first_meeting",
        "reached_at": "2026-02-02T10:00:00Z",
    }
    event = {"event_id": "e-1", "user_external_id": "p-1", "title": "City walk", "attended_at": "2026-02-15T15:00:00Z"}
    for _ in range(2):
        assert deliver("buddy.checkin.completed", checkin).status == "processed"
        assert deliver("buddy.feedback.submitted", feedback).status == "processed"
        assert deliver("buddy.milestone.reached", milestone).status == "processed"
        assert deliver("buddy.event.attended", event).status == "processed"
    assert (CheckIn.objects.count(), Feedback.objects.count(), Milestone.objects.count(), Activity.objects.count()) == (
        1,
        1,
        1,
        1,
    )
    row = CheckIn.objects.get()
    assert (row.by_id, row.mood, row.at, row.source, row.external_id) == (
        pia.pk,
        4,
        at("2026-02-08T10:00:00Z"),
        "buddy",
        "c-1",
    )
    flags = JourneyFlags.objects.get(user=pia).flags
    assert (flags["checkins_completed"], flags["milestones_reached"], flags["events_attended"]) == (1, 1, 1)
    assert flags["last_checkin_at"] == "2026-02-08T10:00:00+00:00"
    assert JourneyFlags.objects.get(user=ben).flags["last_checkin_at"] == "2026-02-08T10:00:00+00:00"

    deliver("buddy.checkin.completed", {**checkin, "mood": 2, "notes": "Tired."})
    deliver("buddy.feedback.submitted", {**feedback, "rating": 3, "comment": "Fine."})
    deliver("buddy.milestone.reached", {**milestone, "title": "First meeting"})
    deliver("buddy.event.attended", {**event, "duration_minutes": 90})
    assert (CheckIn.objects.get().mood, CheckIn.objects.get().notes) == (2, "Tired.")
    assert (Feedback.objects.get().rating, Feedback.objects.get().comment) == (3, "Fine.")
    assert Milestone.objects.get().title == "First meeting"
    assert Activity.objects.get().duration_minutes == 90

    stranger = deliver("buddy.user.joined", joined("p-2", "sam@example.org", "participant"))
    assert stranger.status == "processed"
    outside = deliver("buddy.checkin.completed", {**checkin, "checkin_id": "c-2", "by_external_id": "p-2"})
    assert (outside.status, outside.error) == (
        "failed",
        "ValidationFailed: by_external_id p-2 is not one of the pair of match m-1.",
    )
    assert CheckIn.objects.count() == 1
    bad = deliver("buddy.feedback.submitted", {**feedback, "feedback_id": "f-2", "author_external_id": "p-2"})
    assert bad.status == "failed" and Feedback.objects.count() == 1
    assert Notification.objects.count() == 0


def test_kintell_sessions_are_activities_of_both_people_linked_to_their_active_match(deliver, program, make_user):
    volunteer, participant = make_user(email="vera@example.org"), make_user(email="lev@example.org")
    external_identity_link(user=volunteer, provider="kintell", external_id="k-v-1")
    external_identity_link(user=participant, provider="kintell", external_id="k-p-2")
    match = Match.objects.create(
        program=program,
        mentor=volunteer,
        mentee=participant,
        status=MatchStatus.ACTIVE,
        source=MatchSource.KINTELL,
        started_at=at("2026-09-01T10:00:00Z"),
    )
    activate(match, actor="partner:kintell", at=match.started_at, action="match.imported")
    session = {
        "session_id": "s-9",
        "session_type": "mentorship",
        "volunteer_external_id": "k-v-1",
        "participant_external_id": "k-p-2",
        "duration_minutes": 45,
        "completed_at": "2026-10-12T10:00:00Z",
    }
    for _ in range(2):
        event = deliver("kintell.session.completed", session, source="kintell")
        assert (event.status, event.error) == ("processed", "")
    rows = sorted(
        Activity.objects.values_list(
            "user__email",
            "program_id",
            "match_id",
            "kind",
            "title",
            "duration_minutes",
            "occurred_at",
            "source",
            "external_id",
        )
    )
    assert rows == [
        (
            email,
            program.pk,
            match.pk,
            "session",
            "Kintell mentorship session",
            45,
            at("2026-10-12T10:00:00Z"),
            "kintell",
            "s-9",
        )
        for email in ("lev@example.org", "vera@example.org")
    ]
    deliver("kintell.session.completed", {**session, "duration_minutes": 50}, source="kintell")
    assert set(Activity.objects.values_list("duration_minutes", flat=True)) == {50}

    language = deliver(
        "kintell.session.completed", {**session, "session_id": "s-10", "session_type": "language"}, source="kintell"
    )
    assert (language.status, language.error) == (
        "failed",
        "NotFound: No active language program for Kintell language sessions.",
    )
    stranger = deliver(
        "kintell.session.completed",
        {**session, "session_id": "s-11", "volunteer_external_id": "k-v-404"},
        source="kintell",
    )
    assert (
        stranger.error == "NotFound: volunteer_external_id k-v-404: no Kintell user with this id yet (retried later)."
    )
    assert Activity.objects.count() == 2


def test_a_kintell_session_without_a_match_is_recorded_without_one(deliver, program, make_user):
    volunteer, participant = make_user(email="vera@example.org"), make_user(email="lev@example.org")
    external_identity_link(user=volunteer, provider="kintell", external_id="k-v-1")
    external_identity_link(user=participant, provider="kintell", external_id="k-p-2")
    session = {
        "session_id": "s-1",
        "session_type": "mentorship",
        "volunteer_external_id": "k-v-1",
        "participant_external_id": "k-p-2",
        "duration_minutes": 30,
        "completed_at": "2026-10-12T10:00:00Z",
    }
    assert deliver("kintell.session.completed", session, source="kintell").status == "processed"
    assert set(Activity.objects.values_list("program_id", "match_id")) == {(program.pk, None)}
