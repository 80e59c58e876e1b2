"""What reviewers see: only their assigned applications, never the applicant in a blind program,
never answers marked not reviewer-visible, and others' reviews only after their own (when the
program hides them); operators see everything."""

import pytest

from applications.services import assignments_create, review_submit
from notifications.models import Notification
from tests.applications.conftest import CRITERIA, configure

pytestmark = pytest.mark.django_db

VISIBLE_TO_REVIEWERS = [
    {"key": "name", "label": "Your name", "type": "short_text", "value": "Ada"},
    {"key": "statement", "label": "Why now?", "type": "long_text", "value": "Because."},
    {"key": "years", "label": "Years writing", "type": "number", "value": 4},
    {"key": "group", "label": "I apply as", "type": "single_choice", "value": "first"},
]
ALL_ANSWERS = [
    VISIBLE_TO_REVIEWERS[0],
    {"key": "email", "label": "Contact e-mail", "type": "email", "value": "ada@mail.example"},
    *VISIBLE_TO_REVIEWERS[1:],
]
ANSWERS = {"name": "Ada", "email": "ada@mail.example", "statement": "Because.", "years": 4, "group": "first"}


def _list(api, program):
    return api.get(f"/api/v1/admin/programs/{program.id}/applications")


def _detail(api, program, application):
    return api.get(f"/api/v1/admin/programs/{program.id}/applications/{application.id}")


@pytest.fixture
def setup(apply, applicant, reviewer, program, rubric):
    ada = applicant("ada@example.org", full_name="Ada Lovelace")
    mine = apply(ada, answers=ANSWERS)
    others = [apply(), apply()]
    rae, sam = reviewer("rae@example.org"), reviewer("sam@example.org")
    assignments_create(program=program, pairs=[(mine.id, rae.id), (mine.id, sam.id), (others[0].id, sam.id)])
    return mine, others, rae, sam


def test_reviewers_list_only_their_assigned_applications(client_for, operator_api, setup, program, apply):
    mine, others, rae, sam = setup
    apply(submit=False)  # drafts are nobody's business but the applicant's

    assert [r["id"] for r in _list(client_for(rae), program).json()["results"]] == [str(mine.id)]
    assert sorted(r["id"] for r in _list(client_for(sam), program).json()["results"]) == sorted(
        [str(mine.id), str(others[0].id)]
    )
    assert _list(operator_api, program).json()["count"] == 3
    missing = _detail(client_for(rae), program, others[0])
    assert (missing.status_code, missing.json()["detail"]) == (404, "No such application.")
    assert _list(client_for(rae), program).json()["results"][0]["applicant"] == {
        "id": str(mine.applicant_id),
        "email": "ada@example.org",
        "full_name": "Ada Lovelace",
    }


def test_writers_and_anonymous_callers_see_no_review_list(writer_api, anon_api, program, setup):
    assert _list(writer_api, program).status_code == 403
    assert _list(anon_api, program).status_code == 401


def test_fields_not_reviewer_visible_are_hidden_even_without_blind_review(client_for, operator_api, setup, program):
    mine, _, rae, _ = setup

    reviewer_view = _detail(client_for(rae), program, mine).json()
    operator_view = _detail(operator_api, program, mine).json()

    assert reviewer_view["answers"] == VISIBLE_TO_REVIEWERS
    assert reviewer_view["applicant"]["email"] == "ada@example.org"
    assert operator_view["answers"] == ALL_ANSWERS


def test_blind_review_hides_the_applicant_from_reviewers(client_for, operator_api, setup, program):
    mine, _, rae, _ = setup
    configure(program, blind_review=True)

    rows = _list(client_for(rae), program).json()["results"]
    detail = _detail(client_for(rae), program, mine).json()

    assert [r["applicant"] for r in rows] == [None]
    assert detail == {
        "id": str(mine.id),
        "program_id": str(program.id),
        "track_id": str(mine.track_id),
        "applicant": None,
        "status": "under_review",
        "submitted_at": detail["submitted_at"],
        "decided_at": None,
        "review_count": 0,
        "mean_score": None,
        "median_score": None,
        "corrected_score": None,
        "agreement": None,
        "recommendations": {},
        "pending_decision": "",
        "scores_computed_at": None,
        "form_version": 1,
        "answers": VISIBLE_TO_REVIEWERS,
        "info_request": "",
        "decision_reason": "",
        "pending_reason": "",
        "criteria": [
            {
                **c,
                "description": "",
                "weight": float(c["weight"]),
                "independent": c.get("independent", False),
                "tracks": [],
            }
            for c in CRITERIA
        ],
        "my_review": None,
        "reviews": [],
        "assignments": [],
    }
    # Operators still see who applied.
    assert _detail(operator_api, program, mine).json()["applicant"]["full_name"] == "Ada Lovelace"
    assert {r["applicant"]["email"] for r in _list(operator_api, program).json()["results"]} >= {"ada@example.org"}
    # The assignment notice names no applicant either.
    for notification in Notification.objects.filter(user=rae, kind="review_assigned"):
        assert "Ada" not in notification.body_text + notification.subject + notification.dashboard_text


def test_others_reviews_stay_hidden_until_the_reviewer_submitted_theirs(client_for, operator_api, setup, program):
    mine, _, rae, sam = setup
    review_submit(
        application=mine, reviewer=sam, scores={"craft": 5, "voice": 5, "fit": 5}, recommendation="accept", comment="!"
    )

    before = _detail(client_for(rae), program, mine).json()
    assert (before["reviews"], before["my_review"]) == ([], None)
    operator_view = _detail(operator_api, program, mine).json()
    assert [r["reviewer_id"] for r in operator_view["reviews"]] == [str(sam.id)]
    assert [(a["reviewer_email"], a["status"]) for a in operator_view["assignments"]] == [
        ("rae@example.org", "assigned"),
        ("sam@example.org", "submitted"),
    ]

    review_submit(application=mine, reviewer=rae, scores={"craft": 1, "voice": 1, "fit": 1}, recommendation="reject")
    after = _detail(client_for(rae), program, mine).json()
    assert [(r["reviewer_id"], r["weighted_total"], r["comment"]) for r in after["reviews"]] == [
        (str(sam.id), "100.0000", "!"),
        (str(rae.id), "0.0000", ""),
    ]
    assert after["my_review"]["reviewer_id"] == str(rae.id)
    assert after["assignments"] == []


def test_programs_may_show_others_reviews_at_once(client_for, setup, program):
    mine, _, rae, sam = setup
    configure(program, hide_other_reviews=False)
    review_submit(application=mine, reviewer=sam, scores={"craft": 5, "voice": 5, "fit": 5}, recommendation="accept")

    detail = _detail(client_for(rae), program, mine).json()

    assert ([r["reviewer_id"] for r in detail["reviews"]], detail["my_review"]) == ([str(sam.id)], None)
