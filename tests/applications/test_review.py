"""Reviewing: the review team, manual and automatic (balanced, track-limited, conflict-free)
assignments, a reviewer declaring a conflict, and review submission with exact totals, per-track
criteria and the rubric version the review was written with."""

from decimal import Decimal

import pytest

from accounts.services import user_grant_role, user_revoke_role
from applications.models import ConflictOfInterest, Review, ReviewAssignment
from applications.services import (
    application_form_publish,
    application_start,
    assignment_declare_conflict,
    assignments_auto,
    assignments_create,
    decision_make,
    review_submit,
    scoring_rubric_publish,
)
from core.audit import audit_entries_for
from notifications.models import Notification
from tests.applications.conftest import CRITERIA, FROZEN

pytestmark = pytest.mark.django_db


def _base(program):
    return f"/api/v1/admin/programs/{program.id}"


def _pairs(assignments):
    return {(a.application_id, a.reviewer_id) for a in assignments}


def test_review_team_takes_reviewers_only(operator_api, make_user, program, tracks):
    writer = make_user(email="wanda@example.org", role="writer")
    rae = make_user(email="rae@example.org", role="reviewer")

    refused = operator_api.post(f"{_base(program)}/review-team", {"reviewer_id": str(writer.id)}, format="json")
    added = operator_api.post(
        f"{_base(program)}/review-team",
        {"reviewer_id": str(rae.id), "track_ids": [str(tracks["stage"].id)]},
        format="json",
    )

    assert (refused.status_code, refused.json()["errors"]) == (
        400,
        {"reviewer_id": "wanda@example.org does not hold the reviewer role."},
    )
    assert added.status_code == 200
    assert added.json() == [
        {"reviewer_id": str(rae.id), "email": "rae@example.org", "track_ids": [str(tracks["stage"].id)], "active": True}
    ]
    assert operator_api.get(f"{_base(program)}/review-team").json() == added.json()


def test_manual_assignment_skips_each_conflict_with_its_reason(
    operator_api, operator, make_user, company, applicant, apply, reviewer, program, make_program, mentorship_template
):
    ada = applicant("ada@example.org", company=company)
    user_grant_role(user=ada, role="reviewer")  # an applicant who also reviews
    application = apply(ada, excluded_reviewer_emails=["Ex@Example.org"])
    draft = apply(submit=False)
    colleague = reviewer("colleague@example.org", company=company)
    excluded = reviewer("ex@example.org")  # got an account only after Ada named her
    conflicted = reviewer("conflicted@example.org")
    fine = reviewer("fine@example.org")
    writer = make_user(email="writer2@example.org", role="writer")
    # The conflicted reviewer declared a conflict with Ada on her application to another program.
    other = make_program(mentorship_template, name="Other program")
    application_form_publish(program=other, fields=[{"key": "name", "label": "Name", "type": "short_text"}])
    elsewhere = application_start(applicant=ada, program=other, answers={"name": "Ada"}, submit=True)
    assignments_create(program=other, pairs=[(elsewhere.id, conflicted.id)])
    assignment_declare_conflict(application=elsewhere, reviewer=conflicted, reason="My niece")
    missing = "00000000-0000-0000-0000-000000000000"

    pairs = [
        (application.id, ada.id),
        (application.id, colleague.id),
        (application.id, conflicted.id),
        (application.id, excluded.id),
        (application.id, writer.id),
        (draft.id, fine.id),
        (missing, fine.id),
        (application.id, fine.id),
        (application.id, fine.id),
    ]
    response = operator_api.post(
        f"{_base(program)}/reviews",
        {"assignments": [{"application_id": str(a), "reviewer_id": str(r)} for a, r in pairs]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    due = ReviewAssignment.objects.get(application=application).due_at.isoformat()
    assert body["assigned"] == [{"application_id": str(application.id), "reviewer_id": str(fine.id), "due_at": due}]

    def skip(a, r, reason):
        return {"application_id": str(a), "reviewer_id": str(r), "reason": reason}

    assert body["skipped"] == [
        skip(application.id, ada.id, "the reviewer is the applicant"),
        skip(application.id, colleague.id, "the reviewer and the applicant belong to the same company"),
        skip(application.id, conflicted.id, "the reviewer declared a conflict with this applicant"),
        skip(application.id, excluded.id, "the applicant asked not to be reviewed by this reviewer"),
        skip(application.id, writer.id, "not an active reviewer"),
        skip(draft.id, fine.id, "the application is draft"),
        skip(missing, fine.id, "no such application in this program"),
        skip(application.id, fine.id, "already assigned"),
    ]
    assert list(ReviewAssignment.objects.filter(application__program=program).values_list("reviewer", flat=True)) == [
        fine.id
    ]


def test_assignment_starts_review_notifies_the_reviewer_and_sets_the_deadline(
    operator, apply, reviewer, program, frozen
):
    application = apply()
    rae = reviewer()

    (assignment,), skipped = assignments_create(program=program, pairs=[(application.id, rae.id)], actor=operator)

    assert skipped == []
    application.refresh_from_db()
    assert application.status == "under_review"
    assert assignment.due_at == FROZEN.replace(day=9)  # review_sla_days: 7
    assert (assignment.status, assignment.assigned_by) == ("assigned", operator)
    assert sorted(Notification.objects.filter(user=rae).values_list("kind", "channel", "dedupe_key")) == [
        ("review_assigned", "dashboard", f"review_assigned:{assignment.id}:dashboard"),
        ("review_assigned", "email", f"review_assigned:{assignment.id}:email"),
    ]
    assert [e.action for e in audit_entries_for(application).order_by("created_at")] == [
        "application.started",
        "application.submitted",
        "review.assigned",
        "application.review_started",
    ]


def test_auto_assignment_balances_load_exactly(operator_api, apply, reviewer, program, frozen):
    applications = []
    for _ in range(4):
        applications.append(apply())
        frozen.advance(minutes=1)  # submission order decides who is served first
    r0, r1, r2 = sorted((reviewer() for _ in range(3)), key=lambda u: str(u.id))

    response = operator_api.post(f"{_base(program)}/reviews", {"auto": {"reviewers_per_application": 2}}, format="json")

    assert response.status_code == 200
    assert (len(response.json()["assigned"]), response.json()["skipped"]) == (8, [])
    a1, a2, a3, a4 = applications
    # Least loaded first, ties by id: (r0, r1), then r2 (0) and r0 (1), then r1 and r2 (1 each),
    # then r0 and r1 (2 each, before r2 by id).
    assert _pairs(ReviewAssignment.objects.all()) == {
        (a1.id, r0.id),
        (a1.id, r1.id),
        (a2.id, r2.id),
        (a2.id, r0.id),
        (a3.id, r1.id),
        (a3.id, r2.id),
        (a4.id, r0.id),
        (a4.id, r1.id),
    }
    again = operator_api.post(f"{_base(program)}/reviews", {"auto": {"reviewers_per_application": 2}}, format="json")
    assert again.json() == {"assigned": [], "skipped": []}


def test_auto_assignment_counts_existing_load_and_tops_up(apply, reviewer, program, frozen):
    first, second = apply(), apply()
    heavy, light = sorted((reviewer() for _ in range(2)), key=lambda u: str(u.id))
    assignments_create(program=program, pairs=[(first.id, heavy.id), (second.id, heavy.id)])

    created, skipped = assignments_auto(program=program, reviewers_per_application=2)

    assert _pairs(created) == {(first.id, light.id), (second.id, light.id)}
    assert skipped == []
    created, skipped = assignments_auto(program=program, reviewers_per_application=3)
    assert created == []
    assert sorted(s["reason"] for s in skipped) == ["only 2 of 3 reviewers are eligible"] * 2


def test_auto_assignment_honours_tracks_and_conflicts(apply, reviewer, applicant, company, program, tracks, frozen):
    screen = apply(track="screen")
    stage = apply(applicant(company=company), track="stage")
    screen_only = reviewer(tracks=[tracks["screen"]])
    stage_only = reviewer(tracks=[tracks["stage"]])
    colleague = reviewer(company=company)
    everyone = reviewer()

    created, skipped = assignments_auto(program=program, reviewers_per_application=3)

    assert _pairs(created) == {
        (screen.id, screen_only.id),
        (screen.id, colleague.id),
        (screen.id, everyone.id),
        (stage.id, stage_only.id),
        (stage.id, everyone.id),
    }
    assert skipped == [{"application_id": str(stage.id), "reason": "only 2 of 3 reviewers are eligible"}]


def test_auto_assignment_needs_a_team(operator_api, apply, program):
    apply()
    response = operator_api.post(f"{_base(program)}/reviews", {"auto": {}}, format="json")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "The program 'Mentorship 2026' has no review team yet; add reviewers first.",
    )
    both = operator_api.post(f"{_base(program)}/reviews", {"auto": {}, "assignments": []}, format="json")
    assert (both.status_code, both.json()["errors"]) == (400, {"assignments": "Give either assignments or auto."})


def test_declaring_a_conflict_reassigns_to_another_eligible_reviewer(client_for, apply, reviewer, program, frozen):
    application = apply()
    first, busy, free = reviewer(), reviewer(), reviewer()
    other = apply()
    assignments_create(program=program, pairs=[(application.id, first.id), (other.id, busy.id)])

    response = client_for(first).post(
        f"{_base(program)}/applications/{application.id}/conflict", {"reason": "Former colleague"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"reassigned_to": str(free.id)}  # the least loaded eligible one
    assert dict(ReviewAssignment.objects.filter(application=application).values_list("reviewer", "status")) == {
        first.id: "conflict",
        free.id: "assigned",
    }
    assert ReviewAssignment.objects.get(reviewer=first).conflict_reason == "Former colleague"
    assert ConflictOfInterest.objects.filter(reviewer=first, applicant=application.applicant).count() == 1
    entry = audit_entries_for(application).get(action="review.conflict_declared")
    assert (entry.actor, entry.reason) == (first, "Former colleague")
    assert Notification.objects.filter(user=free, kind="review_assigned").count() == 2
    # The declaring reviewer no longer sees or reviews it.
    rapi = client_for(first)
    assert rapi.get(f"{_base(program)}/applications/{application.id}").status_code == 404
    review = rapi.post(
        f"{_base(program)}/applications/{application.id}/review",
        {"scores": {"craft": 3, "voice": 3, "fit": 3}, "recommendation": "accept"},
        format="json",
    )
    assert review.status_code == 404
    again = rapi.post(f"{_base(program)}/applications/{application.id}/conflict", {}, format="json")
    assert (again.status_code, again.json()["detail"]) == (404, "You have no open review of this application.")


def test_conflict_with_nobody_left_and_on_a_decided_application(apply, reviewer, operator, program, rubric):
    application = apply()
    alone = reviewer()
    assignments_create(program=program, pairs=[(application.id, alone.id)])
    assert assignment_declare_conflict(application=application, reviewer=alone) is None

    decided = apply()
    first, spare = reviewer(), reviewer()
    assignments_create(program=program, pairs=[(decided.id, first.id)])
    decision_make(application=decided, decision="rejected", reason="Out of scope", actor=operator)
    # A decided application needs no other reviewer: nobody is assigned or notified.
    assert assignment_declare_conflict(application=decided, reviewer=first, reason="Late insight") is None
    assert not ReviewAssignment.objects.filter(reviewer=spare).exists()
    assert not Notification.objects.filter(user=spare).exists()


@pytest.fixture
def assigned(apply, reviewer, program, rubric):
    application = apply()
    rae = reviewer()
    assignments_create(program=program, pairs=[(application.id, rae.id)])
    return application, rae


@pytest.mark.parametrize(
    ("scores", "errors"),
    [
        ({"craft": 6, "voice": 0, "fit": 3}, {"scores/craft": "Between 1 and 5.", "scores/voice": "Between 1 and 5."}),
        (
            {"craft": 3, "voice": 3, "fit": 3, "humour": 2},
            {"scores/humour": "Not a criterion of this rubric for this application."},
        ),
        ({"craft": 3}, {"scores/voice": "Score this criterion.", "scores/fit": "Score this criterion."}),
        ({"craft": "3", "voice": 3, "fit": 3}, {"scores/craft": "A number."}),
        ([3, 3, 3], {"scores": "Scores are an object keyed by criterion."}),
    ],
)
def test_invalid_scores_answer_400_per_criterion(client_for, assigned, program, scores, errors):
    application, rae = assigned
    response = client_for(rae).post(
        f"{_base(program)}/applications/{application.id}/review",
        {"scores": scores, "recommendation": "accept"},
        format="json",
    )

    assert response.status_code == 400
    assert (response.json()["detail"], response.json()["errors"]) == ("The review is invalid.", errors)
    assert not Review.objects.exists()


def test_a_review_by_someone_not_assigned_answers_404(client_for, assigned, reviewer, operator_api, program):
    application, _ = assigned
    body = {"scores": {"craft": 3, "voice": 3, "fit": 3}, "recommendation": "accept"}

    stranger = client_for(reviewer()).post(
        f"{_base(program)}/applications/{application.id}/review", body, format="json"
    )
    operator = operator_api.post(f"{_base(program)}/applications/{application.id}/review", body, format="json")
    bad = client_for(assigned[1]).post(
        f"{_base(program)}/applications/{application.id}/review", {**body, "recommendation": "maybe"}, format="json"
    )

    assert (stranger.status_code, stranger.json()["detail"]) == (404, "No such application among your reviews.")
    assert operator.status_code == 404
    assert (bad.status_code, list(bad.json()["errors"])) == (400, ["recommendation"])
    assert not Review.objects.exists()


def test_submitting_a_review_stores_the_exact_total_and_the_summary(client_for, assigned, program, rubric, frozen):
    application, rae = assigned
    response = client_for(rae).post(
        f"{_base(program)}/applications/{application.id}/review",
        {
            "scores": {"craft": 5, "voice": 2, "fit": 1},
            "recommendation": "accept",
            "comment": "Strong craft.",
            "comment_to_applicant": "Keep going.",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    review = Review.objects.get()
    # (2 * 100 + 1 * 25) / 3 = 75; fit is independent.
    assert response.json() == {
        "id": str(review.id),
        "reviewer_id": str(rae.id),
        "rubric_version": 1,
        "scores": {"craft": 5, "voice": 2, "fit": 1},
        "weighted_total": "75.0000",
        "recommendation": "accept",
        "comment": "Strong craft.",
        "comment_to_applicant": "Keep going.",
        "submitted_at": "2026-03-02T09:30:00Z",
    }
    assert ReviewAssignment.objects.get().status == "submitted"
    application.refresh_from_db()
    assert (application.review_count, application.mean_score, application.median_score, application.agreement) == (
        1,
        Decimal("75.0000"),
        Decimal("75.0000"),
        None,
    )
    assert application.recommendations == {"accept": 1}
    entry = audit_entries_for(application).get(action="review.submitted")
    assert (entry.actor, entry.changes) == (
        rae,
        {"scores": {"craft": 5, "voice": 2, "fit": 1}, "weighted_total": "75.0000", "recommendation": "accept"},
    )


def test_a_changed_review_keeps_the_rubric_version_it_was_written_with(assigned, program, rubric):
    application, rae = assigned
    review_submit(
        application=application, reviewer=rae, scores={"craft": 1, "voice": 1, "fit": 1}, recommendation="reject"
    )
    # Version 2 makes voice count four times as much and drops fit.
    scoring_rubric_publish(
        program=program,
        criteria=[
            {"key": "craft", "label": "Craft", "weight": 1},
            {"key": "voice", "label": "Voice", "weight": 4},
        ],
    )

    changed = review_submit(
        application=application, reviewer=rae, scores={"craft": 5, "voice": 3, "fit": 2}, recommendation="accept"
    )

    assert changed.rubric.version == 1
    assert changed.weighted_total == Decimal("83.3333")  # (2 * 100 + 1 * 50) / 3 under version 1
    assert Review.objects.count() == 1
    assert [e.action for e in audit_entries_for(application).filter(action__startswith="review.")] == [
        "review.changed",
        "review.submitted",
        "review.assigned",
    ]
    application.refresh_from_db()
    assert (application.mean_score, application.recommendations) == (Decimal("83.3333"), {"accept": 1})


def test_new_reviews_use_the_newest_rubric(apply, reviewer, program, rubric):
    scoring_rubric_publish(
        program=program, criteria=[{"key": "craft", "label": "Craft", "scale_min": 0, "scale_max": 4}]
    )
    application = apply()
    rae = reviewer()
    assignments_create(program=program, pairs=[(application.id, rae.id)])

    review = review_submit(application=application, reviewer=rae, scores={"craft": 1}, recommendation="waitlist")

    assert (review.rubric.version, review.weighted_total) == (2, Decimal("25.0000"))


def test_per_track_criteria_are_scored_in_their_track_only(client_for, apply, reviewer, program, tracks, form):
    scoring_rubric_publish(
        program=program,
        criteria=[*CRITERIA, {"key": "dialogue", "label": "Dialogue", "weight": 3, "tracks": ["screen"]}],
    )
    screen, stage = apply(track="screen"), apply(track="stage")
    rae = reviewer()
    assignments_create(program=program, pairs=[(screen.id, rae.id), (stage.id, rae.id)])
    api = client_for(rae)

    def review(application, scores):
        return api.post(
            f"{_base(program)}/applications/{application.id}/review",
            {"scores": scores, "recommendation": "accept"},
            format="json",
        )

    base = {"craft": 5, "voice": 3, "fit": 2}
    assert review(screen, base).json()["errors"] == {"scores/dialogue": "Score this criterion."}
    assert review(stage, {**base, "dialogue": 4}).json()["errors"] == {
        "scores/dialogue": "Not a criterion of this rubric for this application."
    }
    # screen: (2*100 + 1*50 + 3*25) / 6 = 54.1667; stage: (2*100 + 1*50) / 3 = 83.3333
    assert review(screen, {**base, "dialogue": 2}).json()["weighted_total"] == "54.1667"
    assert review(stage, base).json()["weighted_total"] == "83.3333"


def test_reviews_close_with_the_decision(client_for, assigned, operator, program):
    application, rae = assigned
    decision_make(application=application, decision="waitlisted", reason="Later", actor=operator)

    response = client_for(rae).post(
        f"{_base(program)}/applications/{application.id}/review",
        {"scores": {"craft": 3, "voice": 3, "fit": 3}, "recommendation": "accept"},
        format="json",
    )

    assert (response.status_code, response.json()["detail"]) == (
        409,
        "This application is waitlisted; reviews are closed.",
    )


def test_reviewers_named_by_the_applicant_stay_off_it_in_auto_assignment(
    client_for, applicant, apply, reviewer, program
):
    ada = applicant()
    apply(ada, submit=False)
    changed = client_for(ada).patch(
        f"/api/v1/programs/{program.id}/applications/me",
        {"excluded_reviewer_emails": ["Boss@Example.org", "rival@example.org"], "action": "submit"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    boss, other = reviewer("boss@example.org"), reviewer()

    created, skipped = assignments_auto(program=program, reviewers_per_application=2)

    assert [a.reviewer for a in created] == [other]
    assert skipped == [{"application_id": changed.json()["id"], "reason": "only 1 of 2 reviewers are eligible"}]
    assert boss.id not in {a.reviewer_id for a in created}


def test_team_members_who_lost_the_reviewer_role_get_no_new_work(apply, reviewer, program):
    application = apply()
    kept, former = reviewer(), reviewer()
    user_revoke_role(user=former, role="reviewer")

    created, skipped = assignments_auto(program=program, reviewers_per_application=2)

    assert [a.reviewer for a in created] == [kept]
    assert skipped == [{"application_id": str(application.id), "reason": "only 1 of 2 reviewers are eligible"}]
