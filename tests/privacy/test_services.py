"""Export and erasure of one person on a dataset of two people across every app."""

from __future__ import annotations

import json

import pytest

from accounts.models import ApiToken, ExternalIdentity, User
from analytics.impact import program_impact
from analytics.scope import Scope
from analytics.selectors import program_analytics
from applications.models import Application, ConflictOfInterest, ReviewAssignment
from coaching.models import Pursuit
from core.errors import Conflict, ValidationFailed
from core.models import AuditEntry
from crm_sync.models import InboundEvent, OutboxEvent
from enrollments.models import Enrollment, Outcome
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone, Profile
from notifications.models import Notification
from privacy.services import person_erase, person_export
from scheduling.models import Attendance, AvailabilityWindow, CalendarFeed
from tests.privacy.conftest import ANN, JO

pytestmark = pytest.mark.django_db

# Ann's rows, counted by hand from tests/privacy/conftest.py.
ANN_ROWS = {
    "accounts.user": 1,
    "accounts.companymembership": 1,
    "accounts.externalidentity": 1,
    "accounts.apitoken": 1,
    "core.auditentry": 5,  # user.created, company.member_added, api_token.issued, match.feedback, user.updated
    "core.idempotencyrecord": 0,
    "core.jobrun": 0,
    "notifications.notification": 1,
    "notifications.notificationpreference": 1,
    "crm_sync.outboxevent": 2,  # her own (subject) and Jo's, whose payload names her as mentor
    "crm_sync.inboundevent": 1,
    "crm_sync.crmsyncitem": 0,
    "enrollments.enrollment": 1,
    "enrollments.journeyflags": 1,
    "enrollments.outcome": 1,
    "scheduling.availabilitywindow": 1,
    "scheduling.session": 1,
    "scheduling.registration": 1,
    "scheduling.attendance": 1,
    "scheduling.sessionreminder": 0,
    "scheduling.hostconfirmation": 0,
    "scheduling.calendarfeed": 1,
    "applications.application": 1,
    "applications.programreviewer": 0,
    "applications.reviewassignment": 0,
    "applications.conflictofinterest": 1,
    "applications.review": 0,
    "mentorship.profile": 1,
    "mentorship.match": 1,
    "mentorship.checkin": 1,
    "mentorship.feedback": 1,
    "mentorship.milestone": 1,
    "mentorship.activity": 1,
    "coaching.pursuit": 2,
    "coaching.checkintask": 1,
    "coaching.coachsettings": 1,
}


def test_export_holds_the_persons_rows_in_every_app(people):
    ann = people["ann"]
    export = person_export(user=ann)
    assert export["summary"]["rows"] == ANN_ROWS
    assert export["summary"]["total"] == sum(ANN_ROWS.values()) == 34
    assert export["person"] == {"id": str(ann.pk), "email": ANN, "full_name": "Ann Example"}
    data = export["data"]
    assert data["accounts.user"][0]["email"] == ANN
    assert data["applications.application"][0]["answers"] == {
        "motivation": "I mentored refugees in Berlin",
        "phone": "+49 30 1234",
    }
    outcome = data["enrollments.outcome"][0]
    assert (outcome["amount"], outcome["occurred_on"], outcome["notes"]) == (
        "1500.50",
        "2026-03-01",
        "Ann got the team lead role",
    )
    assert data["mentorship.checkin"][0]["notes"] == "Ann: Jo needs help with German"
    assert data["mentorship.profile"][0]["bio"] == "Engineer in Berlin"
    assert data["mentorship.match"][0]["mentee_id"] == str(people["jo"].pk)
    assert data["scheduling.attendance"][0]["minutes_attended"] == 45
    # JSON as it is: it survives a round trip unchanged
    assert json.loads(json.dumps(export)) == export


def test_export_holds_nothing_of_another_person(people):
    text = json.dumps(person_export(user=people["ann"]))
    for private in ("Jo's private note", "Jo's comment", "Jo's bio", "Jo's answer", "Jo's reason", "Jo's CV", "b-jo"):
        assert private not in text
    # Jo's address appears only where a shared row names both: the match feedback audit entry's
    # target and Jo's CRM event, which names Ann as mentor (both are about Ann too).
    assert text.count(JO) == 2


def test_export_leaves_out_credentials(people):
    data = person_export(user=people["ann"])["data"]
    assert "password" not in data["accounts.user"][0]
    assert "key_hash" not in data["accounts.apitoken"][0]
    assert "token" not in data["scheduling.calendarfeed"][0]


def _figures(program) -> tuple[dict, dict]:
    analytics = program_analytics(Scope(program_ids=(program.pk,)))
    impact = program_impact(Scope())
    volunteers = sorted(
        ({k: v for k, v in row.items() if k != "email"} for row in impact["volunteers"]),
        key=lambda row: (row["user_id"], row["program_id"]),
    )
    return analytics, {**impact, "volunteers": volunteers}


def test_erasure_keeps_every_figure(people):
    program, ann = people["program"], people["ann"]
    before = _figures(program)
    assert before[1]["volunteers"][0]["user_id"] == str(ann.pk)  # Ann counts as a volunteer
    assert before[1]["volunteers"][0]["vis"] > 0
    person_erase(user=ann, actor=people["operator"], reason="Request #12 by e-mail")
    assert _figures(program) == before
    # only her e-mail changed in the volunteer rows
    row = next(r for r in program_impact(Scope())["volunteers"] if r["user_id"] == str(ann.pk))
    assert row["email"] == f"erased-{ann.pk}@invalid"


def test_erasure_anonymises_the_listed_fields(people):
    ann, jo, operator = people["ann"], people["jo"], people["operator"]
    report = person_erase(user=ann, actor=operator, reason="Request #12 by e-mail")

    ann.refresh_from_db()
    assert ann.email == f"erased-{ann.pk}@invalid"
    assert (ann.full_name, ann.timezone, ann.is_active, ann.is_staff, ann.last_login) == ("", "", False, False, None)
    assert not ann.has_usable_password()
    assert not ann.groups.exists()
    assert not ExternalIdentity.objects.filter(user=ann).exists()
    assert not ApiToken.objects.filter(user=ann).exists()
    assert not CalendarFeed.objects.filter(user=ann).exists()
    assert not AvailabilityWindow.objects.filter(owner=ann).exists()
    assert Enrollment.objects.get(user=ann).reason == ""
    outcome = Outcome.objects.get(enrollment__user=ann)
    assert (outcome.notes, outcome.evidence_url, str(outcome.amount)) == ("", "", "1500.50")
    application = Application.objects.get(applicant=ann)
    assert (application.answers, application.decision_reason, application.info_request) == ({}, "", "")
    assert (application.pending_reason, application.excluded_reviewer_emails) == ("", [])
    assert application.status == "submitted"
    assert ConflictOfInterest.objects.get(applicant=ann).reason == ""
    profile = Profile.objects.get(user=ann)
    assert (profile.bio, profile.goals, profile.preferences, profile.avoid_user_ids) == ("", [], {}, [])
    assert (profile.kind, profile.capacity, profile.skills) == ("mentor", 2, ["python"])
    assert Match.objects.get(mentor=ann).reason == ""
    assert CheckIn.objects.get(by=ann).notes == ""
    assert CheckIn.objects.get(by=ann).mood == 4
    assert Feedback.objects.get(author=ann).comment == ""
    assert Milestone.objects.get(user=ann).title == ""
    assert Activity.objects.get(user=ann).title == ""
    external = Pursuit.objects.get(pk=people["external_pursuit"].pk)
    assert (external.title, external.url) == ("(erased)", "")
    internal = Pursuit.objects.get(user=ann, application__isnull=False)
    assert internal.title == people["program"].name  # the program's name, not the person's
    note = Notification.objects.get(user=ann)
    assert (note.subject, note.body_text, note.body_html, note.dashboard_text, note.context) == ("", "", "", "", {})
    assert note.status == "sent"
    # the audit trail: her actions keep the action, the label is anonymous; mentions are rewritten
    by_ann = AuditEntry.objects.get(actor=ann, action="match.feedback")
    assert by_ann.actor_label == "erased user"
    assert by_ann.target_repr == f"erased-{ann.pk}@invalid / {JO} (active)"
    updated = AuditEntry.objects.get(action="user.updated", target_id=str(ann.pk))
    assert updated.changes == {"email": f"erased-{ann.pk}@invalid", "full_name": ""}
    assert updated.actor_label == operator.email
    # events: her address and name go, ids stay; Jo's own event keeps Jo's data
    own = OutboxEvent.objects.get(subject_id=str(ann.pk))
    assert own.payload == {"email": f"erased-{ann.pk}@invalid", "full_name": "", "roles": ["mentor"]}
    jos = OutboxEvent.objects.get(subject_id=str(jo.pk))
    assert jos.payload == {"email": JO, "full_name": "Jo Ann Other", "mentor": {"email": f"erased-{ann.pk}@invalid"}}
    assert InboundEvent.objects.get(event_id="e-1").envelope == {
        "payload": {"email": f"erased-{ann.pk}@invalid", "name": ""}
    }
    assert Application.objects.get(applicant=jo).excluded_reviewer_emails == [f"erased-{ann.pk}@invalid"]

    assert report.anonymised == {
        "accounts.user": 1,
        "core.auditentry": 1,
        "notifications.notification": 1,
        "enrollments.enrollment": 1,
        "enrollments.outcome": 1,
        "applications.application": 1,
        "applications.conflictofinterest": 1,
        "mentorship.profile": 1,
        "mentorship.match": 1,
        "mentorship.checkin": 1,
        "mentorship.feedback": 1,
        "mentorship.milestone": 1,
        "mentorship.activity": 1,
        "coaching.pursuit": 1,
    }
    assert report.deleted == {
        "accounts.externalidentity": 1,
        "accounts.apitoken": 1,
        "scheduling.availabilitywindow": 1,
        "scheduling.calendarfeed": 1,
    }
    assert report.rewritten == {
        "core.auditentry": 5,
        "crm_sync.outboxevent": 2,
        "crm_sync.inboundevent": 1,
        "applications.application": 1,
    }


def test_erasure_leaves_the_other_person_alone(people):
    jo = people["jo"]
    person_erase(user=people["ann"], actor=people["operator"], reason="Request #12")
    jo.refresh_from_db()
    assert (jo.email, jo.full_name, jo.is_active, jo.has_usable_password()) == (JO, "Jo Ann Other", True, True)
    assert CheckIn.objects.get(by=jo).notes == "Jo's private note"
    assert Feedback.objects.get(author=jo).comment == "Jo's comment"
    assert Profile.objects.get(user=jo).bio == "Jo's bio"
    assert Application.objects.get(applicant=jo).answers == {"motivation": "Jo's answer"}
    assert ReviewAssignment.objects.get(reviewer=jo).conflict_reason == "Jo's note"
    assert ExternalIdentity.objects.filter(user=jo).count() == 1
    assert ApiToken.objects.filter(user=jo).count() == 1
    assert Notification.objects.get(user=jo).body_text == "Your mentor is Ann"
    assert AuditEntry.objects.filter(target_id=str(jo.pk), target_repr=JO).count() == 2
    assert Attendance.objects.get(user=jo).recorded_by_id == people["ann"].pk  # the link stays


def test_erasure_is_audited_without_the_erased_data(people):
    ann, operator = people["ann"], people["operator"]
    report = person_erase(user=ann, actor=operator, reason="Request #12 by e-mail")
    entry = AuditEntry.objects.get(pk=report.audit_entry_id)
    assert (entry.action, entry.actor, entry.reason) == ("person.erased", operator, "Request #12 by e-mail")
    assert entry.target_id == str(ann.pk)
    assert entry.changes["deleted"] == report.deleted
    assert entry.changes["already_erased"] is False
    text = json.dumps(entry.changes) + entry.target_repr
    assert ANN not in text and "Ann Example" not in text


def test_erasing_twice_changes_nothing_more(people):
    ann, operator = people["ann"], people["operator"]
    person_erase(user=ann, actor=operator, reason="Request #12")
    first = person_export(user=User.objects.get(pk=ann.pk))
    again = person_erase(user=User.objects.get(pk=ann.pk), actor=operator, reason="Request #12 (repeated)")
    assert again.already_erased is True
    assert again.deleted == {} and again.rewritten == {}
    second = person_export(user=User.objects.get(pk=ann.pk))
    for export in (first, second):
        for rows in export["data"].values():
            for row in rows:
                row.pop("updated_at", None)
    # the second erasure adds its own audit row about the account (6 -> 7: the five entries that
    # named her and the first erasure's), nothing else moves
    assert first["summary"]["rows"]["core.auditentry"] == 6
    assert second["summary"]["rows"]["core.auditentry"] == 7
    assert AuditEntry.objects.filter(action="person.erased", target_id=str(ann.pk)).count() == 2
    assert {k: v for k, v in second["data"].items() if k != "core.auditentry"} == {
        k: v for k, v in first["data"].items() if k != "core.auditentry"
    }


def test_refuses_a_superuser(people, superuser):
    with pytest.raises(Conflict, match="superuser"):
        person_erase(user=superuser, actor=people["operator"], reason="Request")
    superuser.refresh_from_db()
    assert superuser.email == "root@example.org"


def test_refuses_the_actor_themself(people):
    operator = people["operator"]
    with pytest.raises(Conflict, match="your own"):
        person_erase(user=operator, actor=operator, reason="Request")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_requires_a_reason(people, reason):
    with pytest.raises(ValidationFailed) as caught:
        person_erase(user=people["ann"], actor=people["operator"], reason=reason)
    assert list(caught.value.errors) == ["reason"]
    assert User.objects.get(pk=people["ann"].pk).email == ANN
