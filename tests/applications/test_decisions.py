"""Decisions: one by one (accepted, waitlisted, rejected, a reason required), staged as pending
and released together, in bulk by ids or the top N by corrected score (within a cohort's free
places, within quotas of a single-choice answer). Acceptance enrolls (role from the template,
no enrollment confirmation) and e-mails the decision; every decision emits its event."""

from datetime import date

import pytest

from applications.models import Application
from applications.services import (
    assignments_create,
    decision_make,
    decisions_bulk,
    decisions_release,
    review_submit,
)
from core.audit import audit_entries_for
from core.errors import ValidationFailed
from crm_sync.models import OutboxEvent
from enrollments.models import Enrollment
from notifications.models import Notification
from scheduling.models import CohortMember
from scheduling.services import cohort_create
from tests.applications.conftest import configure

pytestmark = pytest.mark.django_db


def _decision_url(program, application):
    return f"/api/v1/admin/programs/{program.id}/applications/{application.id}/decision"


def _bulk_url(program):
    return f"/api/v1/admin/programs/{program.id}/decisions"


def _decision_events():
    return list(OutboxEvent.objects.filter(event_type="program_application_decision").order_by("occurred_at"))


def _kinds(user):
    return sorted(Notification.objects.filter(user=user).values_list("kind", "channel"))


@pytest.fixture
def cohort(program):
    return cohort_create(
        program=program, name="Spring", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=3
    )


def test_accepting_enrolls_mails_and_emits(operator_api, operator, client_for, apply, program, rubric, frozen):
    application = apply()
    ada = application.applicant

    response = operator_api.post(
        _decision_url(program, application), {"decision": "accepted", "reason": "Strong sample"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["status"], body["decided_at"], body["pending_decision"]) == (
        str(application.id),
        "accepted",
        "2026-03-02T09:30:00Z",
        "",
    )
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == ("accepted", "Strong sample")
    enrollment = Enrollment.objects.get(user=ada, program=program)
    assert (enrollment.role, enrollment.status, enrollment.source_system, enrollment.reason) == (
        "mentee",
        "active",
        "platform",
        "accepted: Strong sample",
    )
    # The decision e-mail tells them; no separate enrollment confirmation.
    decided_at = "2026-03-02T09:30:00+00:00"
    assert sorted(Notification.objects.filter(user=ada).values_list("kind", "channel", "status", "dedupe_key")) == [
        (
            "application_accepted",
            "dashboard",
            "queued",
            f"application_accepted:{application.id}:{decided_at}:dashboard",
        ),
        ("application_accepted", "email", "queued", f"application_accepted:{application.id}:{decided_at}:email"),
        ("application_submitted", "dashboard", "queued", f"application_submitted:{application.id}:dashboard"),
        ("application_submitted", "email", "queued", f"application_submitted:{application.id}:email"),
    ]
    email = Notification.objects.get(user=ada, kind="application_accepted", channel="email")
    assert email.subject == "You are accepted into Mentorship 2026"
    assert "Strong sample" in email.body_text
    (event,) = _decision_events()
    assert (event.subject_type, event.subject_id, event.actor) == (
        "application",
        str(application.id),
        f"user:{operator.id}",
    )
    assert event.payload == {
        "application_id": str(application.id),
        "program_id": str(program.id),
        "applicant_id": str(ada.id),
        "decision": "accepted",
        "decided_at": decided_at,
        "reason": "Strong sample",
    }
    assert OutboxEvent.objects.filter(event_type="enrollment.created", subject_id=str(enrollment.id)).count() == 1
    entry = audit_entries_for(application).get(action="application.decided")
    assert (entry.actor, entry.reason, entry.changes["status"]) == (
        operator,
        "Strong sample",
        ["submitted", "accepted"],
    )
    mine = client_for(ada).get(f"/api/v1/programs/{program.id}/applications/me").json()
    assert [row["event"] for row in mine["timeline"]] == ["Started", "Submitted", "Accepted"]
    assert (mine["decision_reason"], mine["can_edit"]) == ("Strong sample", False)


@pytest.mark.parametrize(
    ("decision", "kind", "subject"),
    [
        ("waitlisted", "application_waitlisted", "Mentorship 2026: you are on the waiting list"),
        ("rejected", "application_rejected", "Your application to Mentorship 2026"),
    ],
)
def test_waitlisting_and_rejecting_mail_and_emit_without_enrolling(
    operator_api, apply, program, decision, kind, subject
):
    application = apply()

    response = operator_api.post(
        _decision_url(program, application), {"decision": decision, "reason": "Full"}, format="json"
    )

    assert (response.status_code, response.json()["status"]) == (200, decision)
    assert not Enrollment.objects.exists()
    assert Notification.objects.get(user=application.applicant, kind=kind, channel="email").subject == subject
    assert [e.payload["decision"] for e in _decision_events()] == [decision]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"decision": "accepted", "reason": "   "}, {"reason": "Give the reason for the decision."}),
        ({"decision": "accepted"}, {"reason": "This field is required."}),
        ({"decision": "maybe", "reason": "Hm"}, {"decision": '"maybe" is not a valid choice.'}),
        ({"decision": "withdrawn", "reason": "Hm"}, {"decision": '"withdrawn" is not a valid choice.'}),
    ],
)
def test_a_decision_needs_a_valid_decision_and_a_reason(operator_api, apply, program, body, errors):
    application = apply()

    response = operator_api.post(_decision_url(program, application), body, format="json")

    assert (response.status_code, response.json()["errors"]) == (400, errors)
    assert Application.objects.get().status == "submitted"
    assert not _decision_events()


def test_the_service_wants_a_reason_too(apply, operator):
    with pytest.raises(ValidationFailed) as error:
        decision_make(application=apply(), decision="rejected", reason="", actor=operator)
    assert error.value.errors == {"reason": "Give the reason for the decision."}


def test_what_can_be_decided(operator_api, apply, program, client_for, reviewer):
    draft = apply(submit=False)
    assert (
        operator_api.post(
            _decision_url(program, draft), {"decision": "accepted", "reason": "x"}, format="json"
        ).status_code
        == 404
    )

    waitlisted = apply()
    decision_make(application=waitlisted, decision="waitlisted", reason="Later")
    moved_up = operator_api.post(
        _decision_url(program, waitlisted), {"decision": "accepted", "reason": "A place"}, format="json"
    )
    assert (moved_up.status_code, moved_up.json()["status"]) == (200, "accepted")
    again = operator_api.post(
        _decision_url(program, waitlisted), {"decision": "rejected", "reason": "Oops"}, format="json"
    )
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "The application is accepted; it cannot be decided now.",
    )

    other = apply()
    assert (
        client_for(reviewer())
        .post(_decision_url(program, other), {"decision": "accepted", "reason": "x"}, format="json")
        .status_code
        == 403
    )


def test_a_pending_decision_waits_for_the_release(operator_api, operator, apply, program, frozen):
    application = apply()
    ada = application.applicant

    staged = operator_api.post(
        _decision_url(program, application), {"decision": "accepted", "reason": "Top", "pending": True}, format="json"
    )

    assert staged.status_code == 200
    assert (staged.json()["status"], staged.json()["pending_decision"], staged.json()["decided_at"]) == (
        "submitted",
        "accepted",
        None,
    )
    assert not Enrollment.objects.exists()
    assert not _decision_events()
    assert _kinds(ada) == [("application_submitted", "dashboard"), ("application_submitted", "email")]
    entry = audit_entries_for(application).get(action="application.decision_staged")
    assert (entry.actor, entry.reason, entry.changes) == (operator, "Top", {"decision": "accepted"})

    frozen.advance(days=1)
    released = operator_api.post(f"/api/v1/admin/programs/{program.id}/decisions/release", {}, format="json")

    assert released.json() == {"released": [str(application.id)], "skipped": []}
    application.refresh_from_db()
    assert (application.status, application.pending_decision, application.decision_reason) == ("accepted", "", "Top")
    assert application.decided_at == frozen.now
    assert Enrollment.objects.get(user=ada).status == "active"
    assert [e.payload["decision"] for e in _decision_events()] == ["accepted"]
    assert ("application_accepted", "email") in _kinds(ada)
    # Nothing is left to release.
    assert decisions_release(program=program) == {"released": [], "skipped": []}


def test_bulk_by_ids_reports_what_it_could_not_decide(operator_api, apply, program):
    first, second = apply(), apply()
    draft = apply(submit=False)
    missing = "00000000-0000-0000-0000-000000000000"

    response = operator_api.post(
        _bulk_url(program),
        {
            "decision": "rejected",
            "reason": "Not this time",
            "application_ids": [str(first.id), str(second.id), str(draft.id), missing],
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["decision"], body["pending"]) == ("rejected", False)
    assert sorted(body["decided"]) == sorted([str(first.id), str(second.id)])
    assert body["skipped"] == [
        {"application_id": missing, "reason": "no such application in this program"},
        {"application_id": str(draft.id), "reason": "The application is draft; it cannot be decided now."},
    ]
    assert len(_decision_events()) == 2
    either = operator_api.post(_bulk_url(program), {"decision": "rejected", "reason": "x"}, format="json")
    assert (either.status_code, either.json()["errors"]) == (
        400,
        {"application_ids": "Give either application_ids or top."},
    )


def test_top_n_ranks_by_the_corrected_score(operator_api, scored, program):
    apps, _ = scored
    names = {str(a.id): n for n, a in apps.items()}

    by_corrected = operator_api.post(
        _bulk_url(program), {"decision": "accepted", "reason": "Best", "top": {"count": 2}}, format="json"
    )
    by_mean = operator_api.post(
        _bulk_url(program),
        {"decision": "waitlisted", "reason": "Next", "top": {"count": 1, "by": "mean_score"}},
        format="json",
    )

    assert [names[i] for i in by_corrected.json()["decided"]] == ["B", "D"]
    # Among the rest (A, C, E), C has the best mean.
    assert [names[i] for i in by_mean.json()["decided"]] == ["C"]
    assert {n: Application.objects.get(pk=a.pk).status for n, a in apps.items()} == {
        "A": "under_review",
        "B": "accepted",
        "C": "waitlisted",
        "D": "accepted",
        "E": "submitted",
    }
    assert Enrollment.objects.filter(program=program, role="mentee").count() == 2
    assert Application.objects.get(pk=apps["B"].pk).corrected_score is not None  # recomputed first
    bad = operator_api.post(_bulk_url(program), {"decision": "accepted", "reason": "x", "top": {}}, format="json")
    assert (bad.status_code, bad.json()["errors"]) == (
        400,
        {"top/count": "How many applications (or a cohort_id to fill)."},
    )


def test_top_n_within_a_track(scored, program, tracks, operator):
    apps, _ = scored
    result = decisions_bulk(
        program=program,
        decision="accepted",
        reason="Stage",
        top={"count": 1, "track_id": tracks["stage"].id},
        actor=operator,
    )
    assert result["decided"] == [str(apps["D"].id)]


def test_top_n_fills_a_cohorts_free_places_and_places_the_accepted(operator_api, scored, program, cohort):
    apps, _ = scored
    decision_make(application=apps["A"], decision="accepted", reason="Early", cohort_id=cohort.id)

    response = operator_api.post(
        _bulk_url(program),
        {"decision": "accepted", "reason": "Cohort", "top": {"count": 5, "cohort_id": str(cohort.id)}},
        format="json",
    )

    names = {str(a.id): n for n, a in apps.items()}
    assert [names[i] for i in response.json()["decided"]] == ["B", "D"]  # 2 of 3 places were free
    members = CohortMember.objects.filter(cohort=cohort, status="active").select_related("enrollment")
    assert sorted(m.enrollment.user.email for m in members) == ["a@example.org", "b@example.org", "d@example.org"]
    full = operator_api.post(
        _bulk_url(program),
        {"decision": "accepted", "reason": "More", "top": {"cohort_id": str(cohort.id)}},
        format="json",
    )
    assert full.json()["decided"] == []
    wrong = operator_api.post(
        _bulk_url(program),
        {"decision": "waitlisted", "reason": "x", "top": {"count": 1, "cohort_id": str(cohort.id)}},
        format="json",
    )
    assert (wrong.status_code, wrong.json()["errors"]) == (
        400,
        {"top/cohort_id": "Only accepted applicants are placed in a cohort."},
    )


def test_staged_cohort_fills_count_the_places_already_promised(scored, program, cohort, operator):
    apps, _ = scored

    first = decisions_bulk(
        program=program, decision="accepted", reason="R1", pending=True, top={"cohort_id": cohort.id}
    )
    second = decisions_bulk(
        program=program, decision="accepted", reason="R2", pending=True, top={"cohort_id": cohort.id}
    )

    assert len(first["decided"]) == 3
    assert second["decided"] == []  # the three places are promised to the first round
    assert not CohortMember.objects.exists()
    released = decisions_release(program=program, actor=operator)
    assert (len(released["released"]), released["skipped"]) == (3, [])
    assert CohortMember.objects.filter(cohort=cohort, status="active").count() == 3


def test_a_single_acceptance_can_place_in_a_cohort(operator_api, apply, program, cohort):
    application = apply()
    rejected = operator_api.post(
        _decision_url(program, application),
        {"decision": "rejected", "reason": "x", "cohort_id": str(cohort.id)},
        format="json",
    )
    assert (rejected.status_code, rejected.json()["errors"]) == (
        400,
        {"cohort_id": "Only accepted applicants are placed in a cohort."},
    )
    accepted = operator_api.post(
        _decision_url(program, application),
        {"decision": "accepted", "reason": "In", "cohort_id": str(cohort.id)},
        format="json",
    )
    assert accepted.status_code == 200
    assert CohortMember.objects.get(cohort=cohort).enrollment.user == application.applicant


def test_quotas_per_answer_of_a_single_choice_field(operator_api, scored, program):
    apps, _ = scored
    names = {str(a.id): n for n, a in apps.items()}

    response = operator_api.post(
        _bulk_url(program),
        {
            "decision": "accepted",
            "reason": "Quota",
            "top": {"count": 3, "quotas": {"field": "group", "limits": {"first": 1}}},
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    # Ranked B, D, C, A, E: B takes the one "first" place, D and A are skipped, C and E are "returning".
    assert [names[i] for i in body["decided"]] == ["B", "C", "E"]
    assert [(names[s["application_id"]], s["reason"]) for s in body["skipped"]] == [
        ("D", "the quota for 'first' is full"),
        ("A", "the quota for 'first' is full"),
    ]


def test_program_quotas_count_accepted_and_staged_and_only_limit_acceptances(scored, program, operator):
    apps, _ = scored
    program = configure(program, quota_field="group", quotas={"returning": 1})
    decision_make(application=apps["C"], decision="accepted", reason="Staged", pending=True)

    accepted = decisions_bulk(program=program, decision="accepted", reason="Q", top={"count": 5})
    waitlisted = decisions_bulk(program=program, decision="waitlisted", reason="W", top={"count": 5})

    # C's staged acceptance holds the one "returning" place: E is skipped.
    assert {s["application_id"] for s in accepted["skipped"]} == {str(apps["E"].id)}
    assert sorted(accepted["decided"]) == sorted(str(apps[n].id) for n in "ABD")
    # Waitlisting is not limited by acceptance quotas.
    assert (waitlisted["decided"], waitlisted["skipped"]) == ([str(apps["E"].id)], [])


@pytest.mark.parametrize(
    ("quotas", "errors"),
    [
        (
            {"field": "years", "limits": {"1": 1}},
            {"top/quotas/field": "A single-choice field of the application form."},
        ),
        ({"field": "nope", "limits": {"a": 1}}, {"top/quotas/field": "A single-choice field of the application form."}),
        (
            {"field": "group", "limits": {"first": -1, "returning": "2"}},
            {
                "top/quotas/limits/first": "A count of at least 0.",
                "top/quotas/limits/returning": "A count of at least 0.",
            },
        ),
        ({"field": "group"}, {"top/quotas": 'Give {"field": <form field key>, "limits": {answer: n}}.'}),
    ],
)
def test_bad_quotas_answer_400(operator_api, scored, program, quotas, errors):
    response = operator_api.post(
        _bulk_url(program),
        {"decision": "accepted", "reason": "Q", "top": {"count": 1, "quotas": quotas}},
        format="json",
    )
    assert (response.status_code, response.json()["errors"]) == (400, errors)
    assert not Application.objects.filter(status="accepted").exists()


def test_staged_bulk_decisions_go_out_only_on_release(operator_api, scored, program):
    apps, _ = scored
    staged = operator_api.post(
        _bulk_url(program),
        {"decision": "accepted", "reason": "Round 1", "pending": True, "top": {"count": 2}},
        format="json",
    ).json()

    assert staged["pending"] is True
    assert not Enrollment.objects.exists()
    assert not _decision_events()
    assert not Notification.objects.filter(kind__startswith="application_accepted").exists()
    # Release one of them first, then the rest.
    one = operator_api.post(
        f"/api/v1/admin/programs/{program.id}/decisions/release",
        {"application_ids": [staged["decided"][1]]},
        format="json",
    ).json()
    assert one == {"released": [staged["decided"][1]], "skipped": []}
    assert Enrollment.objects.count() == 1
    rest = operator_api.post(f"/api/v1/admin/programs/{program.id}/decisions/release", {}, format="json").json()
    assert rest == {"released": [staged["decided"][0]], "skipped": []}
    assert Enrollment.objects.count() == 2
    assert sorted(e.subject_id for e in _decision_events()) == sorted(staged["decided"])
    assert Notification.objects.filter(kind="application_accepted").count() == 4
    assert not Notification.objects.filter(kind="enrollment_confirmed").exists()


def test_decision_mail_may_carry_the_reviewers_comments(apply, reviewer, program, rubric, operator):
    program = configure(program, include_reviewer_comments=True)
    application = apply()
    rae, sam = reviewer(), reviewer()
    assignments_create(program=program, pairs=[(application.id, rae.id), (application.id, sam.id)])
    review_submit(
        application=application,
        reviewer=rae,
        scores={"craft": 2, "voice": 2, "fit": 2},
        recommendation="reject",
        comment="Internal: weak",
        comment_to_applicant="Work on structure.",
    )
    review_submit(
        application=application, reviewer=sam, scores={"craft": 2, "voice": 2, "fit": 2}, recommendation="reject"
    )

    decision_make(application=application, decision="rejected", reason="Not this round", actor=operator)

    email = Notification.objects.get(kind="application_rejected", channel="email")
    assert "Comments from the reviewers:\n\n- Work on structure." in email.body_text
    assert "Internal: weak" not in email.body_text
    assert email.context["reviewer_comments"] == ["Work on structure."]


def test_reviewer_comments_stay_out_by_default(apply, reviewer, program, rubric, operator):
    application = apply()
    rae = reviewer()
    assignments_create(program=program, pairs=[(application.id, rae.id)])
    review_submit(
        application=application,
        reviewer=rae,
        scores={"craft": 2, "voice": 2, "fit": 2},
        recommendation="reject",
        comment_to_applicant="Work on structure.",
    )
    decision_make(application=application, decision="rejected", reason="Not this round", actor=operator)

    email = Notification.objects.get(kind="application_rejected", channel="email")
    assert "Work on structure." not in email.body_text
    assert "Comments from the reviewers" not in email.body_text


def test_an_unknown_cohort_is_named_where_it_was_given(operator_api, apply, program, make_program, mentorship_template):
    application = apply()
    other = make_program(mentorship_template, name="Other")
    foreign = cohort_create(
        program=other, name="Elsewhere", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=3
    )

    single = operator_api.post(
        _decision_url(program, application),
        {"decision": "accepted", "reason": "x", "cohort_id": str(foreign.id)},
        format="json",
    )
    bulk = operator_api.post(
        _bulk_url(program),
        {"decision": "accepted", "reason": "x", "top": {"cohort_id": str(foreign.id)}},
        format="json",
    )

    assert (single.status_code, single.json()["errors"]) == (
        400,
        {"cohort_id": "No cohort with this id in the program."},
    )
    assert (bulk.status_code, bulk.json()["errors"]) == (
        400,
        {"top/cohort_id": "No cohort with this id in the program."},
    )
    assert Application.objects.get().status == "submitted"
