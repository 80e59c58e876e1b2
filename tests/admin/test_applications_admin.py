"""The review and decision admin with Django's test client: reviewers see only what they were
given (without the applicant in blind programs, without fields not meant for them, without the
others' reviews until they sent their own); operators assign, decide with a reason (at once or
staged and released), recompute scores, export CSV and read the audit trail."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import (
    Application,
    ApplicationForm,
    ConflictOfInterest,
    ProgramReviewer,
    Review,
    ReviewAssignment,
    ScoringRubric,
    WaitlistOffer,
)
from applications.services import (
    application_form_publish,
    application_start,
    application_withdraw,
    assignment_declare_conflict,
    assignments_create,
    decision_make,
    program_reviewer_add,
    review_submit,
    scoring_rubric_publish,
)
from enrollments.models import Enrollment
from notifications.models import Notification
from programs.models import ProgramTrack
from tests.admin.test_admin import audit_rows, changelist_cells, message_texts, run_action, url

FIELDS = [
    {"key": "name", "label": "Pen name", "type": "short_text", "required": True},
    {"key": "years", "label": "Years writing", "type": "number", "required": True, "min": 0, "max": 50},
    {"key": "income", "label": "Household income", "type": "number", "reviewer_visible": False},
]
TRACKS = [{"key": "screen", "name": "Screen"}, {"key": "stage", "name": "Stage"}]
CRITERIA = [
    {"key": "craft", "label": "Craft", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"key": "voice", "label": "Voice", "weight": 1, "scale_min": 1, "scale_max": 5},
    {"key": "fit", "label": "Fit", "weight": 1, "scale_min": 0, "scale_max": 10, "independent": True},
]
BLIND = {"application": {"requires_application": True, "blind_review": True}}


def setup_program(program):
    application_form_publish(program=program, fields=FIELDS, tracks=TRACKS)
    scoring_rubric_publish(program=program, criteria=CRITERIA)
    return {t.key: t for t in ProgramTrack.objects.filter(program=program)}


def apply(user, program, track, *, name: str, years: int, income: int = 1200, submit: bool = True):
    return application_start(
        applicant=user,
        program=program,
        answers={"name": name, "years": years, "income": income},
        track=track,
        submit=submit,
    )


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reviewer(make_user):
    return make_user(email="rita@example.org", full_name="Rita Reviewer", role="reviewer", is_staff=True)


@pytest.fixture
def reviewer2(make_user):
    return make_user(email="rob@example.org", full_name="Rob Reviewer", role="reviewer", is_staff=True)


@pytest.fixture
def world(program, make_user, reviewer, reviewer2):
    """Three submitted applications and a draft; Rita reviews Alice's and Bob's, Rob Alice's."""
    tracks = setup_program(program)
    people = {
        name: make_user(email=f"{name}@example.org", full_name=f"{name.title()} Applicant")
        for name in ("alice", "bob", "carol", "dora")
    }
    apps = {
        "alice": apply(people["alice"], program, tracks["screen"], name="Al", years=7, income=1500),
        "bob": apply(people["bob"], program, tracks["stage"], name="Bo", years=3, income=900),
        "carol": apply(people["carol"], program, tracks["screen"], name="Cy", years=12, income=2100),
        "dora": apply(people["dora"], program, tracks["stage"], name="Do", years=1, submit=False),
    }
    for r in (reviewer, reviewer2):
        program_reviewer_add(program=program, reviewer=r)
    created, skipped = assignments_create(
        program=program,
        pairs=[
            (apps["alice"].pk, reviewer.pk),
            (apps["bob"].pk, reviewer.pk),
            (apps["alice"].pk, reviewer2.pk),
        ],
    )
    assert len(created) == 3 and skipped == []
    for key in apps:
        apps[key].refresh_from_db()
    return {"program": program, "tracks": tracks, "people": people, "apps": apps}


@pytest.fixture
def blind_world(make_program, mentorship_template, make_user, reviewer):
    program = make_program(mentorship_template, name="Blind Reads", config_overrides=BLIND)
    tracks = setup_program(program)
    applicant = make_user(email="hidden.person@example.org", full_name="Hidden Person")
    application = apply(applicant, program, tracks["screen"], name="Anonymous Pen", years=4, income=777)
    program_reviewer_add(program=program, reviewer=reviewer)
    assignments_create(program=program, pairs=[(application.pk, reviewer.pk)])
    return {"program": program, "applicant": applicant, "application": application}


def score(application, reviewer, craft=4, voice=2, fit=7, recommendation="accept", comment=""):
    return review_submit(
        application=application,
        reviewer=reviewer,
        scores={"craft": craft, "voice": voice, "fit": fit},
        recommendation=recommendation,
        comment=comment,
    )


# --- reviewers: only their applications ------------------------------------------------------------


def test_reviewer_lists_only_the_applications_assigned_to_them(world, reviewer, reviewer2):
    apps = world["apps"]
    response = login(reviewer).get(url(Application, "changelist"))
    assert response.status_code == 200
    assert {a.pk for a in response.context["cl"].result_list} == {apps["alice"].pk, apps["bob"].pk}
    # A non-blind program shows who applied.
    assert sorted(changelist_cells(response.content.decode(), "who")) == [
        "Alice Applicant <alice@example.org>",
        "Bob Applicant <bob@example.org>",
    ]
    response = login(reviewer2).get(url(Application, "changelist"))
    assert {a.pk for a in response.context["cl"].result_list} == {apps["alice"].pk}


def test_operator_lists_every_submitted_application_but_no_draft(world, operator):
    apps = world["apps"]
    response = login(operator).get(url(Application, "changelist"))
    assert response.status_code == 200
    assert {a.pk for a in response.context["cl"].result_list} == {
        apps["alice"].pk,
        apps["bob"].pk,
        apps["carol"].pk,
    }


def test_reviewer_cannot_open_an_application_of_someone_else(world, reviewer2):
    carol, bob = world["apps"]["carol"], world["apps"]["bob"]
    client = login(reviewer2)
    for application in (carol, bob):
        response = client.get(url(Application, "change", application.pk))
        assert response.status_code == 302
        assert response.url == reverse("admin:index")
        response = client.get(reverse("admin:applications_application_review", args=[application.pk]), follow=True)
        assert response.redirect_chain == [(url(Application, "changelist"), 302)]
        assert "This application is not among your reviews." in message_texts(response)
    # Posting a review does not help either.
    response = client.post(
        reverse("admin:applications_application_review", args=[bob.pk]),
        {"score_craft": "5", "score_voice": "5", "score_fit": "5", "recommendation": "accept"},
    )
    assert response.status_code == 302
    assert not Review.objects.exists()


def test_a_declared_conflict_takes_the_application_away(world, reviewer):
    bob = world["apps"]["bob"]
    assignment_declare_conflict(application=bob, reviewer=reviewer, reason="my cousin")
    client = login(reviewer)
    response = client.get(url(Application, "changelist"))
    assert {a.pk for a in response.context["cl"].result_list} == {world["apps"]["alice"].pk}
    assert client.get(url(Application, "change", bob.pk)).status_code == 302
    response = client.get(reverse("admin:applications_application_review", args=[bob.pk]), follow=True)
    assert "This application is not among your reviews." in message_texts(response)


def test_reviewer_search_does_not_match_applicant_identity(world, reviewer, operator):
    response = login(reviewer).get(url(Application, "changelist"), {"q": "alice@example.org"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    response = login(operator).get(url(Application, "changelist"), {"q": "alice@example.org"})
    assert [a.pk for a in response.context["cl"].result_list] == [world["apps"]["alice"].pk]


def test_reviewer_has_no_actions_and_no_audit_trail(world, reviewer):
    alice = world["apps"]["alice"]
    client = login(reviewer)
    html = client.get(url(Application, "changelist")).content.decode()
    assert 'name="action"' not in html
    html = client.get(url(Application, "change", alice.pk)).content.decode()
    assert 'class="audit-trail"' not in html
    assert client.get(url(Application, "history", alice.pk)).status_code == 403


# --- what a reviewer sees of an application ------------------------------------------------------


def test_answers_not_reviewer_visible_are_hidden_from_reviewers(world, reviewer, operator):
    alice = world["apps"]["alice"]
    for page in (
        url(Application, "change", alice.pk),
        reverse("admin:applications_application_review", args=[alice.pk]),
    ):
        html = login(reviewer).get(page).content.decode()
        assert "Pen name" in html and "Al" in html
        assert "Years writing" in html
        assert "Household income" not in html
        assert "1500" not in html
    html = login(operator).get(url(Application, "change", alice.pk)).content.decode()
    assert "<tr><th>Household income</th><td>1500</td></tr>" in html


def test_blind_program_hides_the_applicant_on_list_change_and_review_pages(blind_world, reviewer, operator):
    application = blind_world["application"]
    client = login(reviewer)
    pages = {
        "list": client.get(url(Application, "changelist")),
        "change": client.get(url(Application, "change", application.pk)),
        "review": client.get(reverse("admin:applications_application_review", args=[application.pk])),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, name
        for secret in ("Hidden Person", "hidden.person@example.org", "hidden.person"):
            assert secret not in html, (name, secret)
    assert changelist_cells(pages["list"].content.decode(), "who") == ["(blind review)"]
    assert "(blind review)" in pages["change"].content.decode()
    assert f"#{str(application.pk)[:8]} · Blind Reads" in pages["change"].content.decode()
    assert "Blind review: the applicant's identity is hidden." in pages["review"].content.decode()
    assert "Anonymous Pen" in pages["review"].content.decode()  # the answers still show

    # Operators decide, so they see who applied.
    html = login(operator).get(url(Application, "changelist")).content.decode()
    assert changelist_cells(html, "who") == ["Hidden Person <hidden.person@example.org>"]


def test_reviewers_cannot_read_the_review_and_conflict_tables(blind_world, reviewer, operator):
    client = login(reviewer)
    for model in (ReviewAssignment, Review, WaitlistOffer, ProgramReviewer, ConflictOfInterest):
        assert client.get(url(model, "changelist")).status_code == 403, model
    assignment = ReviewAssignment.objects.get()
    assert client.get(url(ReviewAssignment, "change", assignment.pk)).status_code == 403
    for model in (ApplicationForm, ScoringRubric):
        assert client.get(url(model, "changelist")).status_code == 200, model


def test_others_reviews_stay_hidden_until_the_reviewer_submitted_their_own(world, reviewer, reviewer2):
    alice = world["apps"]["alice"]
    score(alice, reviewer2, craft=5, voice=5, comment="Rob thinks it sings")
    client = login(reviewer)
    review_page = reverse("admin:applications_application_review", args=[alice.pk])
    for page in (url(Application, "change", alice.pk), review_page):
        html = client.get(page).content.decode()
        assert "Other reviews are shown once you have submitted yours." in html
        assert "Rob thinks it sings" not in html
        assert "rob@example.org" not in html

    response = client.post(
        review_page,
        {"score_craft": "4", "score_voice": "2", "score_fit": "7", "recommendation": "waitlist", "comment": "Mine"},
    )
    assert response.status_code == 302
    assert response.url == url(Application, "change", alice.pk)
    for page in (url(Application, "change", alice.pk), review_page):
        html = client.get(page).content.decode()
        assert "Other reviews are shown once you have submitted yours." not in html
        assert "Rob thinks it sings" in html
        assert "rob@example.org" in html


# --- the review screen ------------------------------------------------------------------------


def test_review_screen_shows_errors_in_place_then_saves_the_review(world, reviewer):
    alice = world["apps"]["alice"]
    client = login(reviewer)
    page = reverse("admin:applications_application_review", args=[alice.pk])
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Craft (1-5)" in html and "Fit (0-10) · not counted in the total" in html
    assert "rubric v1" in html

    response = client.post(
        page, {"score_craft": "9", "score_voice": "", "score_fit": "x7", "recommendation": "maybe", "comment": "Keep"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Every problem at once, each next to its input, with what was typed kept.
    assert 'id="error_craft" data-testid="error-craft"><li>Between 1 and 5.</li>' in html
    assert 'id="error_voice" data-testid="error-voice"><li>Score this criterion.</li>' in html
    assert 'id="error_fit" data-testid="error-fit"><li>Enter a number.</li>' in html
    assert 'data-testid="error-recommendation"><li>Use one of: accept, reject, waitlist, abstain.</li>' in html
    assert 'name="score_craft" min="1" max="5" value="9" aria-invalid="true"' in html
    assert 'name="score_fit" min="0" max="10" value="x7" aria-invalid="true"' in html
    assert ">Keep</textarea>" in html
    assert not Review.objects.exists()

    response = client.post(
        page, {"score_craft": "4", "score_voice": "2", "score_fit": "7", "recommendation": "accept", "comment": "Keep"}
    )
    assert response.status_code == 302
    assert "Your review was saved." in message_texts(client.get(response.url))
    review = Review.objects.get()
    assert review.scores == {"craft": 4, "voice": 2, "fit": 7}
    assert review.weighted_total == Decimal("58.3333")  # (2 * 75 + 1 * 25) / 3; fit is independent
    assert review.recommendation == "accept" and review.comment == "Keep"
    alice.refresh_from_db()
    assert alice.review_count == 1 and alice.mean_score == Decimal("58.3333")
    # Opening the screen again shows the saved review, ready to change.
    html = client.get(page).content.decode()
    assert 'name="score_craft" min="1" max="5" value="4"' in html


# --- operators: actions ----------------------------------------------------------------------


def test_operator_assigns_reviewers_automatically(world, operator):
    carol, bob = world["apps"]["carol"], world["apps"]["bob"]
    client = login(operator)
    response = run_action(client, Application, "assign_reviewers", [carol])
    assert message_texts(response) == ["Mentorship 2026: 3 assignments made, 0 applications short of reviewers."]
    assert ReviewAssignment.objects.filter(application=carol).count() == 2
    assert ReviewAssignment.objects.filter(application=bob).count() == 2
    carol.refresh_from_db()
    assert carol.status == "under_review"


def test_decision_without_a_reason_decides_nothing(world, operator):
    alice, bob = world["apps"]["alice"], world["apps"]["bob"]
    client = login(operator)
    for action in ("accept", "waitlist", "reject"):
        response = run_action(client, Application, action, [alice, bob], reason="  ")
        assert message_texts(response) == ["Give the reason for the decision."]
    assert set(Application.objects.filter(pk__in=[alice.pk, bob.pk]).values_list("status", flat=True)) == {
        "under_review"
    }
    assert not Enrollment.objects.exists()


def test_operator_accepts_waitlists_and_rejects_with_a_reason(world, operator):
    apps = world["apps"]
    client = login(operator)
    response = run_action(client, Application, "accept", [apps["alice"]], reason="Strong craft")
    assert message_texts(response) == ["Decided 1 as accepted."]
    response = run_action(client, Application, "waitlist", [apps["bob"]], reason="Next in line")
    assert message_texts(response) == ["Decided 1 as waitlisted."]
    response = run_action(client, Application, "reject", [apps["carol"], apps["alice"]], reason="Not this time")
    texts = message_texts(response)
    assert texts[0] == "Decided 1 as rejected."
    assert texts[1].startswith(f"#{str(apps['alice'].pk)[:8]}: ")
    statuses = dict(Application.objects.values_list("applicant__email", "status"))
    assert statuses == {
        "alice@example.org": "accepted",
        "bob@example.org": "waitlisted",
        "carol@example.org": "rejected",
        "dora@example.org": "draft",
    }
    assert Application.objects.get(pk=apps["bob"].pk).decision_reason == "Next in line"
    assert Enrollment.objects.get(user=world["people"]["alice"]).status == "active"


def test_staged_decisions_go_out_only_when_released(world, operator):
    alice, bob = world["apps"]["alice"], world["apps"]["bob"]
    client = login(operator)
    response = run_action(client, Application, "waitlist", [alice, bob], reason="Next round", pending="on")
    assert message_texts(response) == ["Staged 2 as waitlisted."]
    for application in (alice, bob):
        application.refresh_from_db()
        assert application.status == "under_review"
        assert (application.pending_decision, application.pending_reason) == ("waitlisted", "Next round")
    assert not Notification.objects.filter(kind="application_waitlisted").exists()
    html = client.get(url(Application, "changelist")).content.decode()
    assert changelist_cells(html, "pending_decision").count("waitlisted") == 2

    response = run_action(client, Application, "release_pending", [alice, bob])
    assert message_texts(response) == ["Mentorship 2026: released 2 decisions."]
    for application in (alice, bob):
        application.refresh_from_db()
        assert (application.status, application.pending_decision) == ("waitlisted", "")
        assert application.decision_reason == "Next round"
    notified = set(Notification.objects.filter(kind="application_waitlisted").values_list("user_id", flat=True))
    assert notified == {alice.applicant_id, bob.applicant_id}


def test_recompute_scores_fills_the_corrected_score(world, operator, reviewer, reviewer2):
    alice, bob = world["apps"]["alice"], world["apps"]["bob"]
    score(alice, reviewer, craft=5, voice=5)
    score(bob, reviewer, craft=1, voice=1, recommendation="reject")
    score(alice, reviewer2, craft=3, voice=3)
    response = run_action(login(operator), Application, "recompute_scores", [alice])
    assert message_texts(response) == ["Mentorship 2026: 2 applications scored."]
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.review_count == 2 and alice.mean_score == Decimal("75.0000")
    assert alice.corrected_score is not None and bob.corrected_score is not None
    assert alice.corrected_score > bob.corrected_score
    # The list is ranked best first; unscored applications come last.
    response = login(operator).get(url(Application, "changelist"))
    assert [a.pk for a in response.context["cl"].result_list] == [alice.pk, bob.pk, world["apps"]["carol"].pk]


def test_csv_export_has_the_exact_header_and_rows(world, operator, reviewer, reviewer2):
    apps = world["apps"]
    score(apps["alice"], reviewer, craft=5, voice=5)
    score(apps["alice"], reviewer2, craft=3, voice=3, recommendation="waitlist")
    score(apps["bob"], reviewer, craft=1, voice=1, recommendation="reject")
    decision_make(application=apps["bob"], decision="rejected", reason="=HYPERLINK(1)")
    selected = [apps["alice"], apps["bob"], apps["carol"]]
    response = login(operator).post(
        url(Application, "changelist"),
        {"action": "export_csv", "_selected_action": [str(a.pk) for a in selected]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="applications.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    for application in selected:
        application.refresh_from_db()
    alice, bob, carol = selected
    assert rows == [
        [
            "id",
            "program",
            "track",
            "applicant_email",
            "status",
            "submitted_at",
            "review_count",
            "mean_score",
            "median_score",
            "corrected_score",
            "agreement",
            "recommendations",
            "decision_reason",
        ],
        # No corrected score yet (nobody recomputed): the order is by submission.
        [
            str(alice.pk),
            "mentorship-2026",
            "screen",
            "alice@example.org",
            "under_review",
            alice.submitted_at.isoformat(),
            "2",
            "75.0000",
            "75.0000",
            "",
            "0.5000",
            "accept:1 waitlist:1",
            "",
        ],
        [
            str(bob.pk),
            "mentorship-2026",
            "stage",
            "bob@example.org",
            "rejected",
            bob.submitted_at.isoformat(),
            "1",
            "0.0000",
            "0.0000",
            "",
            "",
            "reject:1",
            "'=HYPERLINK(1)",  # a formula is defused for spreadsheets
        ],
        [
            str(carol.pk),
            "mentorship-2026",
            "screen",
            "carol@example.org",
            "submitted",
            carol.submitted_at.isoformat(),
            "0",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]


def test_change_page_shows_scores_reviews_and_the_audit_trail(world, operator, reviewer):
    alice = world["apps"]["alice"]
    score(alice, reviewer, craft=4, voice=2, comment="Tight pages")
    decision_make(application=alice, decision="accepted", reason="Strong craft", actor=operator)
    response = login(operator).get(url(Application, "change", alice.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 reviews · mean 58.3333 · median 58.3333" in html
    assert "Tight pages" in html and "rita@example.org" in html
    assert "Alice Applicant &lt;alice@example.org&gt;" in html
    rows = audit_rows(html)
    actions = [action for _, action, _ in rows]
    assert actions == [
        "application.decided",
        "review.submitted",
        "review.assigned",
        "application.review_started",
        "review.assigned",
        "application.submitted",
        "application.started",
    ]
    assert rows[0] == ("operator@example.org", "application.decided", "Strong craft")
    assert rows[1][0] == "rita@example.org"
    assert rows[-1][0] == "alice@example.org"


def test_withdrawn_and_decided_applications_stay_listed_for_operators(world, operator):
    bob = world["apps"]["bob"]
    application_withdraw(application=bob, actor=bob.applicant)
    response = login(operator).get(url(Application, "changelist"), {"status__exact": "withdrawn"})
    assert [a.pk for a in response.context["cl"].result_list] == [bob.pk]


def test_changelist_costs_the_same_queries_whatever_its_length(world, operator, reviewer, make_user):
    program, tracks = world["program"], world["tracks"]

    def queries(user) -> int:
        client = login(user)
        client.get(url(Application, "changelist"))  # warm the session and content types
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(Application, "changelist")).status_code == 200
        return len(captured)

    before = {user.pk: queries(user) for user in (operator, reviewer)}
    for i in range(4):
        extra = apply(make_user(email=f"more{i}@example.org"), program, tracks["stage"], name=f"M{i}", years=i)
        assignments_create(program=program, pairs=[(extra.pk, reviewer.pk)])
    assert {user.pk: queries(user) for user in (operator, reviewer)} == before


# --- the other pages ------------------------------------------------------------------------


def test_every_applications_admin_page_answers_for_operators(world, operator, reviewer, reviewer2):
    alice = world["apps"]["alice"]
    assignment_declare_conflict(application=alice, reviewer=reviewer2, reason="We co-wrote a play")
    score(alice, reviewer)
    decision_make(application=alice, decision="accepted", reason="Yes")
    decision_make(application=world["apps"]["carol"], decision="waitlisted", reason="Later")
    application_withdraw(application=alice, actor=alice.applicant)  # offers the place to Carol (same track)
    assert WaitlistOffer.objects.exists()
    client = login(operator)
    for model in (
        Application,
        ApplicationForm,
        ScoringRubric,
        ReviewAssignment,
        Review,
        ProgramReviewer,
        ConflictOfInterest,
        WaitlistOffer,
    ):
        assert client.get(url(model, "changelist")).status_code == 200, model
        obj = alice if model is Application else model.objects.first()  # drafts are not listed
        assert obj is not None, model
        assert client.get(url(model, "change", obj.pk)).status_code == 200, model
    assert client.get(url(ProgramReviewer, "add")).status_code == 200
    assert client.get(url(ConflictOfInterest, "add")).status_code == 200
    assert client.get(url(Application, "add")).status_code == 403
    assert client.get(url(Application, "history", alice.pk)).status_code == 200
