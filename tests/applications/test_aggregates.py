"""Aggregates of an application's reviews (count, mean, median, tally, agreement) and the
reviewer-bias-corrected score, built from a harsh, a lenient and a middling reviewer scoring
shared applications; the ranked list's filters, ordering and constant query count."""

import math
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import Application
from applications.services import assignments_create, review_submit
from core.jobs import run_job

pytestmark = pytest.mark.django_db


def q(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def test_summary_per_application(scored):
    apps, _ = scored
    summary = {
        name: (a.review_count, a.mean_score, a.median_score, a.agreement, a.recommendations) for name, a in apps.items()
    }
    assert summary == {
        "A": (2, Decimal("37.5000"), Decimal("37.5000"), Decimal("0.2500"), {"accept": 1, "reject": 1}),
        "B": (2, Decimal("50.0000"), Decimal("50.0000"), Decimal("1.0000"), {"accept": 2}),
        "C": (2, Decimal("50.0000"), Decimal("50.0000"), Decimal("0.5000"), {"accept": 1, "reject": 1}),
        "D": (2, Decimal("62.5000"), Decimal("62.5000"), Decimal("0.2500"), {"accept": 1, "waitlist": 1}),
        "E": (0, None, None, None, {}),
    }
    # The corrected score waits for a recompute (the review_scores job or the endpoint).
    assert {a.corrected_score for a in apps.values()} == {None}


def test_corrected_score_takes_each_reviewers_habits_out(operator_api, scored, program):
    apps, _ = scored

    response = operator_api.post(f"/api/v1/admin/programs/{program.id}/scores/recompute")

    assert (response.status_code, response.json()) == (200, {"applications": 4})
    # By hand, from the formula in applications/scoring.py:
    # harsh gave 0, 25, 50: mean 25, spread sqrt(1250 / 3); lenient 75, 100, 75: mean 250 / 3,
    # spread sqrt(1250 / 9); middling 50, 25: mean 37.5, spread 12.5. All eight totals: mean 50,
    # spread sqrt(7500 / 8).
    harsh_spread, lenient_spread, mid_spread = math.sqrt(1250 / 3), math.sqrt(1250 / 9), 12.5
    lenient_mean = 250 / 3
    mean_all, spread_all = 50.0, math.sqrt(7500 / 8)
    z = {
        "A": [(0 - 25) / harsh_spread, (75 - lenient_mean) / lenient_spread],
        "B": [(50 - 25) / harsh_spread, (50 - 37.5) / mid_spread],
        "C": [(75 - lenient_mean) / lenient_spread, (25 - 37.5) / mid_spread],
        "D": [(25 - 25) / harsh_spread, (100 - lenient_mean) / lenient_spread],
    }
    expected = {name: q(mean_all + spread_all * sum(values) / len(values)) for name, values in z.items()}
    assert expected == {
        "A": Decimal("20.4247"),
        "B": Decimal("84.0593"),
        "C": Decimal("23.8654"),
        "D": Decimal("71.6506"),
    }
    stored = {name: Application.objects.get(pk=a.pk).corrected_score for name, a in apps.items()}
    assert stored == {**expected, "E": None}
    # The harsh reviewer's best (B, mean 50) now ranks above the lenient reviewer's best (D, mean 62.5).
    ranked = operator_api.get(f"/api/v1/admin/programs/{program.id}/applications").json()["results"]
    names = {str(a.id): name for name, a in apps.items()}
    assert [names[r["id"]] for r in ranked] == ["B", "D", "C", "A", "E"]
    assert [r["corrected_score"] for r in ranked] == ["84.0593", "71.6506", "23.8654", "20.4247", None]


@pytest.mark.django_db(transaction=True)
def test_the_review_scores_job_recomputes_too(scored, program):
    apps, _ = scored
    run = run_job("review_scores")
    assert (run.status, run.counts) == ("succeeded", {"applications": 4, "programs": 1})
    assert Application.objects.get(pk=apps["B"].pk).corrected_score == Decimal("84.0593")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["B", "D", "C", "A", "E"]),
        ("ordering=corrected_score", ["A", "C", "D", "B", "E"]),
        ("ordering=-mean_score", ["D", "B", "C", "A", "E"]),
        ("ordering=mean_score", ["A", "B", "C", "D", "E"]),
        ("ordering=agreement", ["A", "D", "C", "B", "E"]),
        ("ordering=-review_count", ["A", "B", "C", "D", "E"]),
        ("ordering=-submitted_at", ["E", "D", "C", "B", "A"]),
        ("status=submitted", ["E"]),
        ("status=under_review", ["B", "D", "C", "A"]),
        ("track=stage", ["D", "C", "E"]),
        ("reviewer={middling}", ["B", "C"]),
        ("reviewer={harsh}&track=screen", ["B", "A"]),
        ("min_score=50", ["B", "D"]),
        ("max_score=23.8654", ["C", "A"]),
        ("min_score=20.5&max_score=80", ["D", "C"]),
        ("score_by=mean_score&min_score=50", ["B", "D", "C"]),
        ("score_by=median_score&max_score=40&ordering=median_score", ["A"]),
    ],
)
def test_list_filters_and_ordering(operator_api, scored, program, query, names):
    apps, (harsh, lenient, middling) = scored
    operator_api.post(f"/api/v1/admin/programs/{program.id}/scores/recompute")
    query = query.format(harsh=harsh.id, middling=middling.id)

    response = operator_api.get(f"/api/v1/admin/programs/{program.id}/applications?{query}")

    assert response.status_code == 200, response.json()
    by_id = {str(a.id): name for name, a in apps.items()}
    assert [by_id[r["id"]] for r in response.json()["results"]] == names


def test_track_filter_takes_the_track_id_too(operator_api, scored, program, tracks):
    apps, _ = scored
    rows = operator_api.get(f"/api/v1/admin/programs/{program.id}/applications?track={tracks['screen'].id}").json()
    assert sorted(r["id"] for r in rows["results"]) == sorted(str(apps[n].id) for n in "AB")


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "status=open",
            {
                "status": "Use one of: draft, submitted, under_review, info_requested, accepted, waitlisted, "
                "rejected, withdrawn."
            },
        ),
        ("reviewer=rae", {"reviewer": "A user id."}),
        ("score_by=total", {"score_by": "Use one of: corrected_score, mean_score, median_score."}),
        ("min_score=high", {"min_score": "A number."}),
        ("min_score=nan&max_score=inf", {"min_score": "A number.", "max_score": "A number."}),
        (
            "ordering=-applicant",
            {
                "ordering": "Use one of: corrected_score, mean_score, median_score, review_count, agreement, "
                "submitted_at, created_at (prefix - for descending)."
            },
        ),
    ],
)
def test_bad_filters_answer_400(operator_api, program, form, query, errors):
    response = operator_api.get(f"/api/v1/admin/programs/{program.id}/applications?{query}")
    assert (response.status_code, response.json()["errors"]) == (400, errors)


def test_the_list_costs_the_same_queries_for_2_and_20_rows(operator_api, client_for, apply, reviewer, program, rubric):
    rae = reviewer()
    rae_api = client_for(rae)
    url = f"/api/v1/admin/programs/{program.id}/applications"

    def counts():
        operator_api.get(url), rae_api.get(url)  # warm caches (content types, token lookups)
        with CaptureQueriesContext(connection) as operator_queries:
            operator_rows = operator_api.get(url).json()["count"]
        with CaptureQueriesContext(connection) as reviewer_queries:
            reviewer_rows = rae_api.get(url).json()["count"]
        return operator_rows, reviewer_rows, len(operator_queries), len(reviewer_queries)

    def add(n):
        for _ in range(n):
            application = apply()
            assignments_create(program=program, pairs=[(application.id, rae.id)])
            review_submit(
                application=application,
                reviewer=rae,
                scores={"craft": 3, "voice": 3, "fit": 3},
                recommendation="accept",
            )

    add(2)
    small = counts()
    add(18)
    large = counts()

    assert small[:2] == (2, 2)
    assert large[:2] == (20, 20)
    assert small[2:] == large[2:] == (5, 5)  # token, roles, program, count, page
