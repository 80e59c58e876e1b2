"""Two people with rows in every app: Ann (a mentor who also applies, hosts and pursues) and
Jo (her mentee, whose e-mail `joann@...` contains Ann's as a substring, to prove the e-mail is
matched as a whole address)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from accounts.models import ExternalIdentity
from accounts.services import api_token_issue
from applications.models import Application, ApplicationForm, ConflictOfInterest, ReviewAssignment
from coaching.models import CheckInTask, CoachSettings, Pursuit
from core.audit import audit_record
from crm_sync.models import InboundEvent, InboundSource, OutboxEvent
from enrollments.models import Enrollment, JourneyFlags, Outcome
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone, Profile
from notifications.models import Notification, NotificationPreference
from scheduling.models import Attendance, AvailabilityWindow, CalendarFeed, Registration, Session

ANN = "ann@example.org"
JO = "joann@example.org"


def _d(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _enroll(user, program, role, **fields):
    return Enrollment.objects.create(
        user=user,
        program=program,
        beneficiary_group=program.beneficiary_group,
        program_type=program.program_type,
        role=role,
        enrolled_at=_d(1, 5),
        **fields,
    )


@pytest.fixture
def people(make_user, program, company, operator):
    ann = make_user(email=ANN, full_name="Ann Example", timezone="Europe/Berlin", company=company)
    jo = make_user(email=JO, full_name="Jo Ann Other", company=company)
    data = {"ann": ann, "jo": jo, "program": program, "operator": operator}

    for person, ext in ((ann, "b-ann"), (jo, "b-jo")):
        ExternalIdentity.objects.create(user=person, provider="buddy", external_id=ext, metadata={"nick": ext})
        api_token_issue(user=person, name="laptop")
    CalendarFeed.objects.create(user=ann, token="feed-ann")
    CalendarFeed.objects.create(user=jo, token="feed-jo")
    NotificationPreference.objects.create(user=ann, opted_out_kinds=["digest"])
    JourneyFlags.objects.create(user=ann, flags={"is_mentorship_mentor": True})
    CoachSettings.objects.create(user=ann)

    # enrollments and outcomes
    ann_enrollment = _enroll(ann, program, "mentor", reason="Moved to Hamburg")
    jo_enrollment = _enroll(jo, program, "mentee", reason="Jo's reason")
    Outcome.objects.create(
        program=program,
        enrollment=ann_enrollment,
        outcome_type="promoted",
        occurred_on=date(2026, 3, 1),
        amount=Decimal("1500.50"),
        currency="EUR",
        evidence_url="https://example.org/ann-letter.pdf",
        notes="Ann got the team lead role",
        recorded_by=operator,
    )
    Outcome.objects.create(
        program=program, enrollment=jo_enrollment, outcome_type="placed", occurred_on=date(2026, 3, 2), notes="Jo's"
    )

    # scheduling: Ann hosts a delivered session Jo attends; Ann attends another
    hosted = Session.objects.create(
        program=program, kind="cohort_session", title="Intro", starts_at=_d(3, 2), ends_at=_d(3, 2, 12),
        timezone="UTC", status="delivered", host=ann,
    )  # fmt: skip
    other = Session.objects.create(
        program=program, kind="cohort_session", title="Deep dive", starts_at=_d(3, 5), ends_at=_d(3, 5, 11),
        timezone="UTC", status="delivered",
    )  # fmt: skip
    Registration.objects.create(session=hosted, user=jo, status="registered", registered_at=_d(3, 1))
    Registration.objects.create(session=other, user=ann, status="registered", registered_at=_d(3, 1))
    Attendance.objects.create(session=hosted, user=jo, status="present", recorded_by=ann)
    Attendance.objects.create(session=other, user=ann, status="present", minutes_attended=45)
    AvailabilityWindow.objects.create(
        owner=ann, kind="weekly", weekday=1, start_time=time(18), end_time=time(20), valid_from=date(2026, 1, 1),
        timezone="Europe/Berlin",
    )  # fmt: skip
    AvailabilityWindow.objects.create(owner=jo, kind="one_off", starts_at=_d(4, 1), ends_at=_d(4, 1, 12))

    # applications: Ann applied; Jo reviews it (assignment with a conflict reason); Jo applied and
    # asked not to be reviewed by Ann
    form = ApplicationForm.objects.create(program=program, version=1, fields=[])
    ann_application = Application.objects.create(
        applicant=ann, program=program, form=form, status="submitted", submitted_at=_d(2, 1),
        answers={"motivation": "I mentored refugees in Berlin", "phone": "+49 30 1234"},
        decision_reason="Strong profile", info_request="Send Ann's CV", pending_reason="Ann pending",
        excluded_reviewer_emails=["someone@example.org"],
    )  # fmt: skip
    Application.objects.create(
        applicant=jo, program=program, form=form, status="submitted", submitted_at=_d(2, 2),
        answers={"motivation": "Jo's answer"}, excluded_reviewer_emails=[ANN],
    )  # fmt: skip
    ReviewAssignment.objects.create(
        application=ann_application, reviewer=jo, due_at=_d(2, 10), conflict_reason="Jo's note"
    )
    ConflictOfInterest.objects.create(reviewer=jo, applicant=ann, reason="Ann and Jo are neighbours")

    # mentorship
    Profile.objects.create(
        user=ann, program=program, kind="mentor", capacity=2, bio="Engineer in Berlin", goals=["career"],
        preferences={"gender": "any"}, avoid_user_ids=["x"], skills=["python"],
    )  # fmt: skip
    Profile.objects.create(user=jo, program=program, kind="mentee", bio="Jo's bio", goals=["jobs"])
    match = Match.objects.create(
        program=program, mentor=ann, mentee=jo, status="active", started_at=_d(3, 1), reason="Paired by hand"
    )
    CheckIn.objects.create(match=match, by=ann, mood=4, notes="Ann: Jo needs help with German", at=_d(3, 10))
    CheckIn.objects.create(match=match, by=jo, mood=5, notes="Jo's private note", at=_d(3, 11))
    Feedback.objects.create(match=match, author=ann, rating=4, comment="Ann's comment", at=_d(3, 15))
    Feedback.objects.create(match=match, author=jo, rating=5, comment="Jo's comment", at=_d(3, 15))
    Milestone.objects.create(user=ann, program=program, key="first-talk", title="Ann's talk", reached_at=_d(3, 6))
    Milestone.objects.create(user=jo, program=program, key="cv", title="Jo's CV", reached_at=_d(3, 7))
    Activity.objects.create(
        program=program, user=ann, kind="event", title="Ann at the meetup", duration_minutes=90, occurred_at=_d(3, 9)
    )

    # coaching: an external pursuit of Ann's and one following her application
    external = Pursuit.objects.create(
        user=ann, title="Berlin writers' fellowship", url="https://example.org/fellowship",
        last_progress_at=_d(3, 1), submitted_at=_d(3, 1),
    )  # fmt: skip
    Pursuit.objects.create(
        user=ann, application=ann_application, title=program.name, url="https://example.org/p",
        last_progress_at=_d(3, 1),
    )  # fmt: skip
    CheckInTask.objects.create(pursuit=external, user=ann, due_at=_d(3, 22))

    # notifications, audit, events
    Notification.objects.create(
        user=ann, channel="email", kind="match.started", kind_group="transactional", template_name="inline:x",
        subject="Hello Ann", body_text="Dear Ann Example", body_html="<p>Dear Ann</p>", context={"name": "Ann"},
        status="sent", sent_at=_d(3, 1),
    )  # fmt: skip
    Notification.objects.create(
        user=jo, channel="email", kind="match.started", kind_group="transactional", template_name="inline:x",
        subject="Hello Jo", body_text="Your mentor is Ann", status="sent", sent_at=_d(3, 1),
    )  # fmt: skip
    audit_record(actor=ann, action="match.feedback", target=match, changes={"rating": 4})
    audit_record(actor=operator, action="user.updated", target=ann, changes={"email": ANN, "full_name": "Ann Example"})
    OutboxEvent.objects.create(
        event_type="crm.entity.synced", schema_version=1, occurred_at=_d(3, 1), producer="platform",
        subject_type="participant", subject_id=str(ann.pk), actor="system:platform",
        payload={"email": ANN, "full_name": "Ann Example", "roles": ["mentor"]},
    )  # fmt: skip
    OutboxEvent.objects.create(
        event_type="crm.entity.synced", schema_version=1, occurred_at=_d(3, 1), producer="platform",
        subject_type="participant", subject_id=str(jo.pk), actor="system:platform",
        payload={"email": JO, "full_name": "Jo Ann Other", "mentor": {"email": ANN}},
    )  # fmt: skip
    source = InboundSource.objects.create(key="buddy", secret="whsec_x")
    InboundEvent.objects.create(
        source=source, event_id="e-1", event_type="buddy.event_attended", status="processed",
        envelope={"payload": {"email": ANN, "name": "Ann Example"}},
    )  # fmt: skip
    InboundEvent.objects.create(
        source=source, event_id="e-2", event_type="buddy.event_attended", status="processed",
        envelope={"payload": {"email": JO}},
    )  # fmt: skip
    data.update(match=match, hosted=hosted, ann_application=ann_application, external_pursuit=external)
    return data


@pytest.fixture
def superuser(db):
    from accounts.models import User

    return User.objects.create_superuser(email="root@example.org", password="s3cret-passw0rd-root")
