"""The daily `cohort_transitions` job on fixed dates: start and end judged in the program's time
zone, completion settling members and enrollments, idempotent reruns, the recorded run."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from config import schedule as config_schedule
from core.jobs import job_registry, run_job
from core.models import AuditEntry, JobRun
from enrollments.models import Enrollment
from programs.services import program_update
from scheduling.models import Cohort, CohortMember
from scheduling.services import cohort_member_add, cohort_member_remove, cohort_set_status

pytestmark = pytest.mark.django_db(transaction=True)

JOB = "cohort_transitions"


def _run(frozen, at: datetime) -> tuple[JobRun, list[str]]:
    frozen(at)
    lines: list[str] = []
    run = run_job(JOB, out=lines.append)
    assert (run.status, run.error) == ("succeeded", "")
    return run, lines


def _status(cohort) -> str:
    return Cohort.objects.get(pk=cohort.pk).status


def test_the_job_is_registered_and_scheduled_hourly():
    # Hourly, so a cohort starts soon after midnight in its program's own time zone.
    assert JOB in job_registry()
    assert config_schedule.SCHEDULE[JOB] == {"crontab": "5 * * * *"}


def test_a_planned_cohort_starts_on_its_start_date(cohort, frozen):
    run, _ = _run(frozen, datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    assert (_status(cohort), run.counts) == ("planned", {})

    run, lines = _run(frozen, datetime(2026, 4, 1, 0, 5, tzinfo=UTC))
    assert _status(cohort) == "active"
    assert run.counts == {"activated": 1}
    assert lines == [
        f"started cohort 'Spring 2026' ({cohort.pk})",
        "cohort transitions done: activated=1, completed=0, skipped=0, failed=0",
    ]
    entry = AuditEntry.objects.get(target_id=str(cohort.pk), action="cohort.status_changed")
    assert (entry.actor_label, entry.changes, entry.reason) == (
        "system",
        {"status": ["planned", "active"]},
        "starts on 2026-04-01 (UTC date 2026-04-01)",
    )


def test_the_start_date_is_judged_in_the_programs_time_zone(
    program, make_program, mentorship_template, make_cohort, frozen
):
    auckland = make_program(mentorship_template, name="Auckland", timezone="Pacific/Auckland")
    los_angeles = make_program(mentorship_template, name="Los Angeles", timezone="America/Los_Angeles")
    in_utc = make_cohort("UTC")
    in_auckland = make_cohort("Auckland", in_program=auckland)
    in_los_angeles = make_cohort("Los Angeles", in_program=los_angeles)

    # 10:59 UTC on 31 March is 23:59 in Auckland (NZDT, UTC+13): not yet.
    run, _ = _run(frozen, datetime(2026, 3, 31, 10, 59, tzinfo=UTC))
    assert [_status(c) for c in (in_utc, in_auckland, in_los_angeles)] == ["planned", "planned", "planned"]

    # 11:00 UTC is midnight on 1 April in Auckland; still 31 March in UTC and Los Angeles.
    run, _ = _run(frozen, datetime(2026, 3, 31, 11, 0, tzinfo=UTC))
    assert [_status(c) for c in (in_utc, in_auckland, in_los_angeles)] == ["planned", "active", "planned"]
    assert run.counts == {"activated": 1}
    entry = AuditEntry.objects.get(target_id=str(in_auckland.pk), action="cohort.status_changed")
    assert entry.reason == "starts on 2026-04-01 (Pacific/Auckland date 2026-04-01)"

    # 06:59 UTC on 1 April is 23:59 on 31 March in Los Angeles (PDT, UTC-7).
    run, _ = _run(frozen, datetime(2026, 4, 1, 6, 59, tzinfo=UTC))
    assert [_status(c) for c in (in_utc, in_auckland, in_los_angeles)] == ["active", "active", "planned"]
    assert run.counts == {"activated": 1}

    run, _ = _run(frozen, datetime(2026, 4, 1, 7, 0, tzinfo=UTC))
    assert [_status(c) for c in (in_utc, in_auckland, in_los_angeles)] == ["active", "active", "active"]
    assert run.counts == {"activated": 1}


def test_completion_after_the_end_date_settles_members_and_enrollments(cohort, enroll, frozen):
    ada, alan, grace = enroll("ada@example.org"), enroll("alan@example.org"), enroll("grace@example.org")
    for enrollment in (ada, alan, grace):
        cohort_member_add(cohort=cohort, enrollment=enrollment)
    cohort_member_remove(member=CohortMember.objects.get(enrollment=grace), reason="left early")
    _run(frozen, datetime(2026, 4, 1, 0, 5, tzinfo=UTC))

    # ends_on is 30 June: the cohort runs through that whole day.
    run, _ = _run(frozen, datetime(2026, 6, 30, 23, 59, tzinfo=UTC))
    assert (_status(cohort), run.counts) == ("active", {})

    completed_at = datetime(2026, 7, 1, 0, 5, tzinfo=UTC)
    run, lines = _run(frozen, completed_at)
    assert _status(cohort) == "completed"
    assert run.counts == {"completed": 1, "members_completed": 2, "members_dropped": 0}
    assert lines[0] == f"completed cohort 'Spring 2026' ({cohort.pk}): 2 member(s) completed, 0 dropped"
    members = {
        m.enrollment.user.email: (m.status, m.reason)
        for m in CohortMember.objects.filter(cohort=cohort).select_related("enrollment__user")
    }
    assert members == {
        "ada@example.org": ("completed", "cohort completed"),
        "alan@example.org": ("completed", "cohort completed"),
        "grace@example.org": ("dropped", "left early"),
    }
    enrollments = {
        e.user.email: (e.status, e.reason, e.completed_at) for e in Enrollment.objects.select_related("user")
    }
    assert enrollments == {
        "ada@example.org": ("completed", "cohort completed", completed_at),
        "alan@example.org": ("completed", "cohort completed", completed_at),
        "grace@example.org": ("active", "", None),
    }

    audit_count = AuditEntry.objects.count()
    again, lines = _run(frozen, datetime(2026, 7, 2, 0, 5, tzinfo=UTC))
    assert again.counts == {}
    assert lines == ["cohort transitions done: activated=0, completed=0, skipped=0, failed=0"]
    assert AuditEntry.objects.count() == audit_count


def test_the_end_date_is_judged_in_the_programs_time_zone(make_program, mentorship_template, make_cohort, frozen):
    auckland = make_program(mentorship_template, name="Auckland", timezone="Pacific/Auckland")
    cohort = make_cohort("Winter", in_program=auckland, status="active", ends_on=date(2026, 6, 30))
    # NZST (UTC+12) in June: 1 July starts at 12:00 UTC on 30 June.
    run, _ = _run(frozen, datetime(2026, 6, 30, 11, 59, tzinfo=UTC))
    assert (_status(cohort), run.counts) == ("active", {})
    run, _ = _run(frozen, datetime(2026, 6, 30, 12, 0, tzinfo=UTC))
    assert _status(cohort) == "completed"
    assert run.counts == {"completed": 1, "members_completed": 0, "members_dropped": 0}


def test_a_cohort_missed_while_planned_starts_and_completes_in_one_run(cohort, enroll, frozen):
    cohort_member_add(cohort=cohort, enrollment=enroll())
    run, _ = _run(frozen, datetime(2026, 8, 1, 0, 5, tzinfo=UTC))
    assert _status(cohort) == "completed"
    assert run.counts == {"activated": 1, "completed": 1, "members_completed": 1, "members_dropped": 0}
    actions = list(
        AuditEntry.objects.filter(target_id=str(cohort.pk), action="cohort.status_changed")
        .order_by("created_at")
        .values_list("changes", flat=True)
    )
    assert actions == [{"status": ["planned", "active"]}, {"status": ["active", "completed"]}]


def test_cancelled_and_completed_cohorts_are_left_alone(cohort, make_cohort, frozen):
    cohort_set_status(cohort=cohort, status="cancelled")
    done = make_cohort("Done", status="active", ends_on=date(2026, 4, 30))
    cohort_set_status(cohort=done, status="completed")
    run, _ = _run(frozen, datetime(2026, 8, 1, 0, 5, tzinfo=UTC))
    assert (run.counts, _status(cohort), _status(done)) == ({}, "cancelled", "completed")


def test_a_program_time_zone_change_applies_to_the_next_run(program, cohort, frozen):
    program_update(program=program, data={"timezone": "Pacific/Kiritimati"})  # UTC+14
    run, _ = _run(frozen, datetime(2026, 3, 31, 10, 0, tzinfo=UTC))
    assert (_status(cohort), run.counts) == ("active", {"activated": 1})


def test_run_through_the_jobs_api(operator_api, cohort, frozen):
    frozen(datetime(2026, 4, 1, 0, 5, tzinfo=UTC))
    response = operator_api.post("/api/v1/admin/programs/jobs/run", {"job": JOB}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["job"], body["status"], body["trigger"], body["counts"]) == (JOB, "succeeded", "api", {"activated": 1})
    assert body["progress"] == "cohort transitions done: activated=1, completed=0, skipped=0, failed=0"
    assert _status(cohort) == "active"
