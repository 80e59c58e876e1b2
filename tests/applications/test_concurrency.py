"""Races on PostgreSQL with real transactions: one applicant starting twice at once gets one
application; concurrent bulk "top N" decisions hold a cohort's places and the quotas (the
program row lock serialises them); a control without the lock shows the race is real."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

import applications.services.deciding as deciding
import applications.services.reviewing as reviewing
from applications.models import Application, WaitlistOffer
from applications.services import (
    application_start,
    application_withdraw,
    assignments_auto,
    decision_make,
    decisions_bulk,
    notices,
    scores_recompute,
)
from core.audit import audit_entries_for
from programs.models import Program
from scheduling.models import CohortMember
from scheduling.services import cohort_create
from tests.applications.conftest import answers_for
from tests.concurrency import race as _race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

WINDOW_SECONDS = 0.3


@pytest.fixture
def wide_window(scored, program, monkeypatch):
    """Scores computed once up front; inside the runs the recompute (whose row updates would
    serialise them by themselves) becomes a pause between taking the program lock and ranking,
    so that runs the lock does not serialise overlap."""
    scores_recompute(program=program)

    def pause(*, program):
        time.sleep(WINDOW_SECONDS)
        return 0

    monkeypatch.setattr(reviewing, "scores_recompute", pause)


def test_one_applicant_starting_twice_at_once_gets_one_application(applicant, program, tracks):
    ada = applicant("ada@example.org")
    calls = [
        (
            lambda submit=submit: application_start(
                applicant=ada, program=program, answers=answers_for("Ada"), track=tracks["screen"], submit=submit
            )
        )
        for submit in (True, False, True, False, True)
    ]

    results, conflicts, errors = _race(calls)

    assert errors == []
    assert (len(results), len(conflicts)) == (1, 4)
    assert {str(c).split(" (")[0].rstrip(".") for c in conflicts} <= {
        "You already have an application to 'Mentorship 2026'",
    }
    assert Application.objects.filter(applicant=ada, program=program).count() == 1
    assert Application.objects.get().id == results[0].id


def test_two_top_n_fills_of_one_cohort_accept_no_more_than_its_places(scored, program, wide_window):
    apps, _ = scored
    cohort = cohort_create(
        program=program, name="Spring", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=2
    )
    calls = [
        lambda: decisions_bulk(
            program=program, decision="accepted", reason="Fill", top={"count": 2, "cohort_id": cohort.id}
        )
        for _ in range(2)
    ]

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts) == ([], [])
    decided = sorted(len(r["decided"]) for r in results)
    assert decided == [0, 2]
    assert Application.objects.filter(status="accepted").count() == 2
    assert CohortMember.objects.filter(cohort=cohort, status="active").count() == 2


def test_staged_fills_on_two_tracks_at_once_promise_no_more_than_the_places(scored, program, tracks, wide_window):
    apps, _ = scored
    cohort = cohort_create(
        program=program, name="Spring", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=2
    )
    calls = [
        (
            lambda track=track: decisions_bulk(
                program=program,
                decision="accepted",
                reason="Fill",
                pending=True,
                top={"cohort_id": cohort.id, "track_id": tracks[track].id},
            )
        )
        for track in ("screen", "stage")
    ]

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts) == ([], [])
    assert sum(len(r["decided"]) for r in results) == 2
    assert Application.objects.filter(pending_decision="accepted", pending_cohort_id=cohort.id).count() == 2


def _quota_calls(program, tracks):
    return [
        (
            lambda track=track: decisions_bulk(
                program=program,
                decision="accepted",
                reason="Quota",
                top={"count": 2, "track_id": tracks[track].id, "quotas": {"field": "group", "limits": {"first": 1}}},
            )
        )
        for track in ("screen", "stage")
    ]


def _accepted_first():
    return sum(1 for a in Application.objects.filter(status="accepted") if a.answers["group"] == "first")


def test_concurrent_top_n_on_two_tracks_hold_the_quota(scored, program, tracks, wide_window):
    results, conflicts, errors = _race(_quota_calls(program, tracks))

    assert (errors, conflicts) == ([], [])
    assert _accepted_first() == 1  # B (screen) and D (stage) both answer "first"; only one gets in


def test_control_without_the_program_lock_the_quota_is_overrun(scored, program, tracks, wide_window, monkeypatch):
    class Unlocked:
        """Program.objects without select_for_update: what decisions_bulk would be without its lock."""

        class objects:  # noqa: N801 - mimics the manager attribute
            select_for_update = staticmethod(lambda **kwargs: Program.objects.all())
            select_related = staticmethod(Program.objects.select_related)

    monkeypatch.setattr(deciding, "Program", Unlocked)
    both_counted = threading.Barrier(2, timeout=10)
    real_ranked = deciding._ranked

    def ranked_after_both_counted(program, rule):
        both_counted.wait()  # each run has counted the quota's places before either decides
        return real_ranked(program, rule)

    monkeypatch.setattr(deciding, "_ranked", ranked_after_both_counted)

    results, conflicts, errors = _race(_quota_calls(program, tracks))

    assert (errors, conflicts) == ([], [])
    assert _accepted_first() == 2


def test_a_withdrawal_during_auto_assignment_is_not_overwritten(apply, reviewer, program, monkeypatch):
    application = apply()
    reviewer()
    real = reviewing.ConflictIndex
    loaded = threading.Event()

    class SlowIndex(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            loaded.set()  # the applications are loaded; the assignment is not made yet
            time.sleep(WINDOW_SECONDS)

    def withdraw_once_loaded():
        assert loaded.wait(timeout=10)
        return application_withdraw(application=application, actor=application.applicant)

    monkeypatch.setattr(reviewing, "ConflictIndex", SlowIndex)
    calls = [lambda: assignments_auto(program=program, reviewers_per_application=1), withdraw_once_loaded]

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts) == ([], [])
    application.refresh_from_db()
    # The withdrawal waited for the assignment and then took effect.
    assert application.status == "withdrawn"
    assert [
        e.changes["status"]
        for e in audit_entries_for(application)
        .filter(
            action__in=[
                "application.review_started",
                "application.withdrawn",
            ]
        )
        .order_by("created_at")
    ] == [["submitted", "under_review"], ["under_review", "withdrawn"]]


def test_two_places_given_back_at_once_go_to_two_waitlisted_applicants(apply, program, operator, monkeypatch):
    accepted = [apply() for _ in range(2)]
    waitlisted = [apply() for _ in range(2)]
    for application in accepted:
        decision_make(application=application, decision="accepted", reason="In", actor=operator)
    for application in waitlisted:
        decision_make(application=application, decision="waitlisted", reason="Next", actor=operator)
    real_notify = notices.notify_applicant

    def slow_notify(application, kind, *args, **kwargs):
        real_notify(application, kind, *args, **kwargs)
        if kind == notices.WAITLIST_OFFER:
            time.sleep(WINDOW_SECONDS)  # the offer is made, its transaction still open

    monkeypatch.setattr(notices, "notify_applicant", slow_notify)
    calls = [(lambda a=application: application_withdraw(application=a, actor=a.applicant)) for application in accepted]

    results, conflicts, errors = _race(calls)

    assert (errors, conflicts) == ([], [])
    assert len(results) == 2
    offers = WaitlistOffer.objects.filter(status="open")
    assert sorted(o.application_id for o in offers) == sorted(a.id for a in waitlisted)
