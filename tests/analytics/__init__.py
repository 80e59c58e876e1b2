"""A hand-built analytics dataset: every row is written with the status and times the tests reason
about, so each expected metric can be computed by hand (see the docstring of `build`)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from applications.enums import ApplicationStatus, AssignmentStatus, Recommendation
from applications.models import Application, Review, ReviewAssignment
from applications.services import application_form_publish, scoring_rubric_publish
from enrollments.models import Enrollment
from programs.services import campaign_create
from scheduling.models import Cohort, CohortMember

FIELDS = [{"key": "name", "label": "Your name", "type": "short_text", "required": True}]
CRITERIA = [{"key": "craft", "label": "Craft", "weight": 1, "scale_min": 1, "scale_max": 5}]

_seq = itertools.count(1)


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _application(program, form, user, *, created, status, submitted=None, decided=None) -> Application:
    application = Application.objects.create(
        applicant=user, program=program, form=form, status=status, submitted_at=submitted, decided_at=decided
    )
    Application.objects.filter(pk=application.pk).update(created_at=created)
    return application


def _review(application, rubric, reviewer, *, due, submitted) -> Review:
    assignment = ReviewAssignment.objects.create(
        application=application, reviewer=reviewer, status=AssignmentStatus.SUBMITTED, due_at=due
    )
    return Review.objects.create(
        assignment=assignment,
        application=application,
        reviewer=reviewer,
        rubric=rubric,
        scores={"craft": 3},
        weighted_total=Decimal("50"),
        recommendation=Recommendation.ACCEPT,
        submitted_at=submitted,
    )


def _enrollment(program, user, *, enrolled, status, campaign=None, completed=None, dropped=None) -> Enrollment:
    return Enrollment.objects.create(
        user=user,
        program=program,
        campaign=campaign,
        beneficiary_group=program.beneficiary_group,
        program_type=program.program_type,
        role="mentee",
        status=status,
        enrolled_at=enrolled,
        completed_at=completed,
        dropped_at=dropped,
    )


def build(*, program, other_program, company, make_user) -> SimpleNamespace:
    """Program P (`program`) and an other program Q (rows that must never count for P).

    Applications of P (created = started):
      A1 draft         created 03-01, never submitted
      A2 submitted     created 03-02, submitted 03-02
      A3 under review  created 03-03, submitted 03-03, review on time
      A4 accepted      created 03-04, submitted 03-04 00:00, decided 03-06 00:00 (2 days), review late
      A5 rejected      created 03-05, submitted 03-05 00:00, decided 03-09 00:00 (4 days), review on time
      A6 waitlisted    created 03-06, submitted 03-06 00:00, decided 03-16 00:00 (10 days), review on time
      A7 accepted      created 03-07, submitted 03-07 00:00, decided 03-08 00:00 (1 day), no review
      A9 withdrawn     created 02-20, never submitted
    Application of Q: A8 accepted (created 03-01, submitted 03-01, decided 03-31), review late.

    Enrollments of P (campaign C: target 3, max 5, budget 1500.00 EUR; cohorts K1 capacity 4, K2 capacity 2):
      E1 active     03-10, campaign C, K1 active member
      E2 active     03-11, no campaign, K1 active member
      E3 completed  03-12, campaign C, K1 member who completed (left 04-01)
      E4 dropped    03-13, campaign C, no cohort
      E5 completed  02-15, no campaign, no cohort
    Enrollment of Q: E6 active 03-10.
    """
    form = application_form_publish(program=program, fields=FIELDS)
    rubric = scoring_rubric_publish(program=program, criteria=CRITERIA)
    other_form = application_form_publish(program=other_program, fields=FIELDS)
    other_rubric = scoring_rubric_publish(program=other_program, criteria=CRITERIA)
    reviewer = make_user(email=f"analytics-reviewer{next(_seq)}@example.org", role="reviewer")

    def user():
        return make_user(email=f"analytics{next(_seq)}@example.org")

    s = ApplicationStatus
    apps = {
        "A1": _application(program, form, user(), created=at(3, 1), status=s.DRAFT),
        "A2": _application(program, form, user(), created=at(3, 2), status=s.SUBMITTED, submitted=at(3, 2)),
        "A3": _application(program, form, user(), created=at(3, 3), status=s.UNDER_REVIEW, submitted=at(3, 3)),
        "A4": _application(
            program, form, user(), created=at(3, 4), status=s.ACCEPTED, submitted=at(3, 4), decided=at(3, 6)
        ),
        "A5": _application(
            program, form, user(), created=at(3, 5), status=s.REJECTED, submitted=at(3, 5), decided=at(3, 9)
        ),
        "A6": _application(
            program, form, user(), created=at(3, 6), status=s.WAITLISTED, submitted=at(3, 6), decided=at(3, 16)
        ),
        "A7": _application(
            program, form, user(), created=at(3, 7), status=s.ACCEPTED, submitted=at(3, 7), decided=at(3, 8)
        ),
        "A9": _application(program, form, user(), created=at(2, 20), status=s.WITHDRAWN),
        "A8": _application(
            other_program,
            other_form,
            user(),
            created=at(3, 1),
            status=s.ACCEPTED,
            submitted=at(3, 1),
            decided=at(3, 31),
        ),
    }
    # On time: submitted at or before the due date; late: after it.
    _review(apps["A3"], rubric, reviewer, due=at(3, 10), submitted=at(3, 5))
    _review(apps["A4"], rubric, reviewer, due=at(3, 5), submitted=at(3, 5, 12))
    _review(apps["A5"], rubric, reviewer, due=at(3, 8), submitted=at(3, 8))
    _review(apps["A6"], rubric, reviewer, due=at(3, 12), submitted=at(3, 11))
    _review(apps["A8"], other_rubric, reviewer, due=at(3, 5), submitted=at(3, 20))

    campaign = campaign_create(
        program=program,
        company=company,
        name="Campaign C",
        target_enrollment=3,
        max_enrollment=5,
        budget_amount=Decimal("1500.00"),
        budget_currency="EUR",
    )
    k1 = Cohort.objects.create(
        program=program, name="K1", starts_on=date(2026, 3, 1), ends_on=date(2026, 6, 30), capacity=4
    )
    k2 = Cohort.objects.create(
        program=program, name="K2", starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30), capacity=2
    )
    enrollments = {
        "E1": _enrollment(program, user(), enrolled=at(3, 10), status="active", campaign=campaign),
        "E2": _enrollment(program, user(), enrolled=at(3, 11), status="active"),
        "E3": _enrollment(
            program, user(), enrolled=at(3, 12), status="completed", campaign=campaign, completed=at(4, 1)
        ),
        "E4": _enrollment(program, user(), enrolled=at(3, 13), status="dropped", campaign=campaign, dropped=at(3, 20)),
        "E5": _enrollment(program, user(), enrolled=at(2, 15), status="completed", completed=at(3, 1)),
        "E6": _enrollment(other_program, user(), enrolled=at(3, 10), status="active"),
    }
    CohortMember.objects.create(cohort=k1, enrollment=enrollments["E1"], status="active", joined_at=at(3, 10))
    CohortMember.objects.create(cohort=k1, enrollment=enrollments["E2"], status="active", joined_at=at(3, 11))
    CohortMember.objects.create(
        cohort=k1, enrollment=enrollments["E3"], status="completed", joined_at=at(3, 12), left_at=at(4, 1)
    )
    return SimpleNamespace(
        program=program,
        other_program=other_program,
        campaign=campaign,
        k1=k1,
        k2=k2,
        apps=apps,
        enrollments=enrollments,
        form=form,
        rubric=rubric,
        reviewer=reviewer,
        user=user,
        at=at,
        day=timedelta(days=1),
    )


def grow(data: SimpleNamespace, n: int = 3) -> None:
    """More rows of every kind in P, for the constant-query-count checks."""
    for i in range(n):
        application = _application(
            data.program,
            data.form,
            data.user(),
            created=at(3, 20),
            status=ApplicationStatus.ACCEPTED,
            submitted=at(3, 20),
            decided=at(3, 21 + i),
        )
        _review(application, data.rubric, data.reviewer, due=at(3, 25), submitted=at(3, 21))
        enrollment = _enrollment(data.program, data.user(), enrolled=at(3, 22), status="active", campaign=data.campaign)
        cohort = Cohort.objects.create(
            program=data.program, name=f"Extra {i}", starts_on=date(2026, 4, 1), ends_on=date(2026, 5, 1), capacity=3
        )
        CohortMember.objects.create(cohort=cohort, enrollment=enrollment, status="active", joined_at=at(3, 22))
