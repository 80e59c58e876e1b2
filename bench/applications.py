"""Applications at scale: a program with 50,000 applications and 150,000 reviews. Prints the
latency and query count of the ranked admin list and API list pages, of ranking (the corrected
scores), and of a bulk decision of 1,000 applications.

    python bench/applications.py [--applications 50000] [--reviews-per 3] [--reviewers 300] [--decisions 1000]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import timedelta

from _setup import report, scaled, setup


def _build(count: int, per: int, reviewer_count: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.services import roles_ensure_groups, user_grant_role
    from applications.models import Application, Review, ReviewAssignment
    from applications.scoring import weighted_total
    from applications.services import application_form_publish, scoring_rubric_publish
    from core import clock
    from programs.models import BeneficiaryGroup
    from programs.services import beneficiary_group_create, program_create, program_set_status
    from templates_app.models import ProgramTemplate
    from templates_app.services import templates_seed_builtin

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE applications_review, applications_reviewassignment, applications_waitlistoffer, "
            "applications_application_excluded_reviewers, applications_application, applications_applicationform, "
            "applications_scoringrubric, applications_programreviewer, enrollments_enrollment CASCADE"
        )
    roles_ensure_groups()
    templates_seed_builtin()
    group = BeneficiaryGroup.objects.filter(key="bench").first() or beneficiary_group_create(key="bench", name="Bench")
    template = ProgramTemplate.objects.get(template_key="career-lab", version=1)
    program = program_create(template=template, name=f"Bench {uuid.uuid4().hex[:6]}", beneficiary_group=group)
    program_set_status(program=program, status="active")
    form = application_form_publish(
        program=program, fields=[{"key": "name", "label": "Name", "type": "short_text", "required": True}]
    )
    rubric = scoring_rubric_publish(
        program=program,
        criteria=[
            {"key": "craft", "label": "Craft", "weight": 2, "scale_min": 1, "scale_max": 5},
            {"key": "voice", "label": "Voice", "weight": 1, "scale_min": 1, "scale_max": 5},
        ],
    )
    User = get_user_model()
    password = make_password(None)
    tag = uuid.uuid4().hex[:6]
    now = clock.now()
    reviewers = User.objects.bulk_create(
        [User(email=f"r{i}-{tag}@bench.local", password=password) for i in range(reviewer_count)], batch_size=5000
    )
    for reviewer in reviewers[:1]:
        user_grant_role(user=reviewer, role="reviewer")
    applicants = User.objects.bulk_create(
        [User(email=f"a{i}-{tag}@bench.local", password=password) for i in range(count)], batch_size=5000
    )
    applications = Application.objects.bulk_create(
        [
            Application(
                applicant=a,
                program=program,
                form=form,
                answers={"name": a.email},
                status="under_review",
                submitted_at=now - timedelta(minutes=i),
                last_progress_at=now,
            )
            for i, a in enumerate(applicants)
        ],
        batch_size=5000,
    )
    rng = random.Random(7)
    harshness = {r.pk: rng.uniform(-1.0, 1.0) for r in reviewers}
    assignments, reviews = [], []
    for i, application in enumerate(applications):
        quality = rng.uniform(1, 5)
        for k in range(per):
            reviewer = reviewers[(i * per + k) % reviewer_count]
            assignment = ReviewAssignment(
                application=application, reviewer=reviewer, status="submitted", due_at=now + timedelta(days=7)
            )
            assignments.append(assignment)
            craft = min(5, max(1, round(quality + harshness[reviewer.pk])))
            voice = min(5, max(1, round(quality)))
            scores = {"craft": craft, "voice": voice}
            reviews.append(
                Review(
                    assignment=assignment,
                    application=application,
                    reviewer=reviewer,
                    rubric=rubric,
                    scores=scores,
                    weighted_total=weighted_total(rubric.criteria, None, scores),
                    recommendation="accept" if craft >= 4 else "waitlist",
                    submitted_at=now,
                )
            )
    ReviewAssignment.objects.bulk_create(assignments, batch_size=10000)
    Review.objects.bulk_create(reviews, batch_size=10000)
    totals: dict = {}
    for review in reviews:
        totals.setdefault(review.application_id, []).append(review.weighted_total)
    for application in applications:
        values = totals[application.pk]
        application.review_count = len(values)
        application.mean_score = sum(values) / len(values)
        application.median_score = sorted(values)[len(values) // 2]
    Application.objects.bulk_update(applications, ["review_count", "mean_score", "median_score"], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return program, reviewers[0]


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=scaled(50_000, 100))
    parser.add_argument("--reviews-per", type=int, default=3)
    parser.add_argument("--reviewers", type=int, default=scaled(300, 10))
    parser.add_argument("--decisions", type=int, default=scaled(1000, 20), help="Applications per bulk decision.")
    args = parser.parse_args()
    setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from accounts.services import api_token_issue, roles_ensure_groups, user_create_or_update, user_grant_role
    from applications.models import Application
    from applications.services import decisions_bulk, decisions_release, scores_recompute

    started = time.perf_counter()
    program, _ = _build(args.applications, args.reviews_per, args.reviewers)
    decided = args.decisions
    reviews = args.applications * args.reviews_per
    report("applications.build", args.applications, time.perf_counter() - started, reviews=reviews)

    seconds, scored = _timed(lambda: scores_recompute(program=program), repeat=1)
    report("applications.rank.recompute_corrected_scores", reviews, seconds, applications=scored)

    roles_ensure_groups()
    operator, _ = user_create_or_update(email="bench-operator@bench.local", is_staff=True)
    operator.is_superuser = True
    operator.save(update_fields=["is_superuser"])
    user_grant_role(user=operator, role="operator")
    browser = Client()
    browser.force_login(get_user_model().objects.get(pk=operator.pk))
    admin_url = f"/admin/applications/application/?program__id__exact={program.pk}&o=-8"
    browser.get(admin_url)
    with CaptureQueriesContext(connection) as queries:
        seconds, response = _timed(lambda: browser.get(admin_url))
    assert response.status_code == 200, response.status_code
    report("applications.admin.list_page", 100, seconds, queries=len(queries.captured_queries) // 3)

    api = APIClient()
    _, key = api_token_issue(user=operator)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api_url = f"/api/v1/admin/programs/{program.pk}/applications?ordering=-corrected_score&page_size=50"
    api.get(api_url)
    with CaptureQueriesContext(connection) as queries:
        seconds, response = _timed(lambda: api.get(api_url))
    assert response.status_code == 200 and response.json()["count"] == args.applications
    report("applications.api.list_page", 50, seconds, queries=len(queries.captured_queries) // 3)

    ids = list(
        Application.objects.filter(program=program).order_by("-corrected_score").values_list("id", flat=True)[:decided]
    )
    started = time.perf_counter()
    result = decisions_bulk(
        program=program, decision="accepted", reason="bench", pending=True, application_ids=ids, actor=operator
    )
    report(f"applications.decide.stage_{decided}", len(result["decided"]), time.perf_counter() - started)
    started = time.perf_counter()
    released = decisions_release(program=program, actor=operator)
    report(f"applications.decide.release_{decided}_accepted", len(released["released"]), time.perf_counter() - started)
    rest = list(
        Application.objects.filter(program=program, status="under_review")
        .order_by("corrected_score")
        .values_list("id", flat=True)[:decided]
    )
    started = time.perf_counter()
    result = decisions_bulk(program=program, decision="rejected", reason="bench", application_ids=rest, actor=operator)
    report(f"applications.decide.reject_{decided}_now", len(result["decided"]), time.perf_counter() - started)


if __name__ == "__main__":
    main()
