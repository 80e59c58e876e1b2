"""The coach's scheduled jobs: bulk momentum, the hourly deadline and micro-task scan, daily
check-ins. Time travels with a frozen clock that also stamps the rows (`created_at`), so the
rolling 24 h windows of the notification log follow the test's time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone as dj_timezone

from applications.services import application_form_publish, application_start
from coaching import jobs, notices
from coaching.enums import OPEN_STATES
from coaching.models import CheckInTask, ProgramTrust, Pursuit
from coaching.momentum import momentum
from coaching.services import pursuit_confirm, pursuit_create_external, pursuit_update, snooze_set, trust_of
from core import clock
from core.jobs import run_job
from notifications.models import Notification, RateLimitPolicy
from tests.concurrency import race

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
US = timedelta(microseconds=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, value: datetime) -> datetime:
        self.now = value
        return value


def freeze(monkeypatch) -> Clock:
    """`core.clock.now` and Django's `timezone.now` (which stamps `created_at`) at T0, movable."""
    state = Clock(T0)
    monkeypatch.setattr(clock, "now", state)
    monkeypatch.setattr(dj_timezone, "now", state)
    return state


def ensure_nudge_limits() -> None:
    """The seeded "nudge" policy (a transactional test may have flushed it): 1 e-mail and 1
    dashboard nudge per person per rolling 24 h."""
    for channel in ("email", "dashboard"):
        RateLimitPolicy.objects.get_or_create(
            group="nudge", channel=channel, defaults={"max_count": 1, "window_hours": 24}
        )


@pytest.fixture
def frozen(monkeypatch) -> Clock:
    return freeze(monkeypatch)


@pytest.fixture
def nudge_limits(db) -> None:
    ensure_nudge_limits()


def external(user, title, deadline, **data):
    return pursuit_create_external(user=user, data={"title": title, "deadline": deadline, **data})


def coach_rows(user=None):
    query = Notification.objects.filter(kind__in=notices.COACH_KINDS)
    if user is not None:
        query = query.filter(user=user)
    return list(query.order_by("created_at", "channel"))


def keys(row) -> list[str]:
    return [item["key"] for item in row.context["items"]]


def state(rows) -> list[tuple]:
    return [(r.kind, r.channel, r.status, r.suppressed_reason) for r in rows]


# --- momentum --------------------------------------------------------------------------------------


def _internal(make_program, template, user, name, *, closes_at, trust=None, submit=False):
    program = make_program(template, name=name, closes_at=closes_at)
    application_form_publish(program=program, fields=[{"key": "name", "label": "Name", "type": "short_text"}])
    if trust is not None:
        ProgramTrust.objects.create(program=program, trust_score=trust)
    application = application_start(applicant=user, program=program, answers={"name": "Ada"}, submit=submit)
    return Pursuit.objects.get(application=application)


def test_bulk_momentum_equals_the_per_row_function(make_user, make_program, mentorship_template, frozen):
    ada, ben = make_user(email="ada@example.org"), make_user(email="ben@example.org")
    rng = random.Random(7)
    made = [
        _internal(make_program, mentorship_template, ada, "Trusted", closes_at=T0 + timedelta(days=9), trust=0.3),
        _internal(make_program, mentorship_template, ben, "Default", closes_at=T0 + timedelta(days=70)),
        _internal(make_program, mentorship_template, ada, "Zero", closes_at=T0 + timedelta(hours=5), trust=0.0),
        _internal(make_program, mentorship_template, ben, "Sent", closes_at=T0 + timedelta(days=3), submit=True),
        external(ada, "No deadline", None),
        external(ada, "No deadline, trusted", None, trust_score=1),
        external(ben, "Far", T0 + timedelta(days=400), trust_score=0.25),
        external(ben, "At the horizon", T0 + timedelta(days=60)),
        external(ben, "Just inside", T0 + timedelta(days=60) - US, trust_score=0.1),
        external(ada, "Due in a second", T0 + timedelta(seconds=1), trust_score=0.9),
    ]
    for i in range(120):  # odd deadlines (to the microsecond) and trusts, to stress the rounding
        deadline = T0 + timedelta(microseconds=rng.randrange(1, 75 * 86_400 * 10**6))
        trust = rng.choice([None, 0, 1, 0.5, 0.2, round(rng.random(), rng.randrange(1, 17))])
        made.append(external(rng.choice([ada, ben]), f"Random {i}", deadline, trust_score=trust))
    states = ["drafting", "review", "submitted", "lost", "outcome_pending"]
    for pursuit, new_state in zip(made[20:30], states * 2, strict=True):
        if new_state in ("submitted", "outcome_pending"):
            pursuit_confirm(pursuit=pursuit, user=pursuit.user, state="submitted")
        if new_state != "submitted":
            pursuit_update(pursuit=pursuit, user=pursuit.user, data={"coach_state": new_state})
    passed = external(ada, "Passes", T0 + timedelta(days=2), trust_score=0.7)

    later = frozen.set(T0 + timedelta(days=2, microseconds=1))  # "Passes" and a few random ones drop out
    Pursuit.objects.update(momentum_score=-1.0)  # stale values, all of them
    assert jobs.momentum_recompute(later, batch=37) == Pursuit.objects.count() == 131

    rows = list(Pursuit.objects.select_related("application"))
    expected = {
        p.pk: momentum(deadline=p.deadline, trust=trust_of(p), now=later, open_=p.coach_state in OPEN_STATES)
        for p in rows
    }
    assert {p.pk: p.momentum_score for p in rows} == expected
    assert Pursuit.objects.get(pk=passed.pk).momentum_score is None
    assert Pursuit.objects.get(title="Trusted").momentum_score == round(0.6 * (1 - 7 / 60) + 0.4 * 0.3, 4)
    assert Pursuit.objects.get(title="Sent").momentum_score is None
    assert Pursuit.objects.get(title="No deadline, trusted").momentum_score == 0.4
    assert sum(score is None for score in expected.values()) > 10
    # Unchanged rows are not written again.
    assert jobs.momentum_recompute(later) == 0


@pytest.mark.django_db
def test_the_sql_rounding_is_pythons_round_to_four_places():
    rng = random.Random(11)
    values = [0.03125, 0.09375, 0.12345, 0.00005, 0.00015, 0.99995, 1.0, 0.0, 0.5, 2.675e-1, 1e-20, 0.4 * 0.078125]
    values += [k / 2**15 for k in range(0, 2**15, 97)] + [rng.random() for _ in range(2000)]
    values += [round(rng.random(), 5) for _ in range(500)]
    rounded = jobs._ROUND4.replace("{x}", "v.x")
    sql = f"SELECT {rounded} FROM unnest(%s::float8[]) WITH ORDINALITY AS v(x, i) ORDER BY i"
    with connection.cursor() as cursor:
        cursor.execute(sql, [values])
        got = [row[0] for row in cursor.fetchall()]
    assert got == [round(v, 4) for v in values]


# --- the hourly scan: deadline windows -------------------------------------------------------------


def test_deadline_reminders_at_72_and_24_hours_one_message_per_person(make_user, frozen, nudge_limits):
    ada, ben = make_user(email="ada@example.org"), make_user(email="ben@example.org")
    due = T0 + timedelta(hours=73)
    first = external(ada, "Fellowship", due)
    second = external(ada, "Residency", due)
    external(ada, "Grant", T0 + timedelta(days=10))
    other = external(ben, "Prize", due)

    frozen.set(due - timedelta(hours=72) - US)
    jobs.coach_scan()
    assert coach_rows() == []

    frozen.set(due - timedelta(hours=72))
    jobs.coach_scan()
    rows = coach_rows(ada)
    assert state(rows) == [
        ("coach_deadline_reminder", "dashboard", "queued", ""),
        ("coach_deadline_reminder", "email", "queued", ""),
    ]
    ids = sorted([str(first.pk), str(second.pk)])
    email = next(r for r in rows if r.channel == "email")
    assert sorted(email.context["pursuit_ids"]) == ids
    assert sorted(ref["id"] for ref in email.related) == ids
    assert sorted(keys(email)) == sorted(f"deadline_72h:{pk}" for pk in ids)
    assert email.subject == "2 deadlines coming up"
    assert "- Fellowship: due Thu 5 Mar 2026, 10:30 UTC (within 3 days)" in email.body_text
    assert email.context["earlier"] == []
    assert [keys(r) for r in coach_rows(ben)] == [[f"deadline_72h:{other.pk}"]] * 2

    jobs.coach_scan()  # a rerun sends nothing
    frozen.set(T0 + timedelta(hours=47))
    for pursuit in (first, second, other):  # progress: no micro-task to ride along
        pursuit_update(pursuit=pursuit, user=pursuit.user, data={"coach_state": "drafting"})
    frozen.set(due - timedelta(hours=24) - US)
    jobs.coach_scan()  # still inside the 72 h window, already announced
    assert len(coach_rows()) == 4

    frozen.set(due - timedelta(hours=24))
    jobs.coach_scan()
    new = coach_rows(ada)[2:]
    assert state(new) == [
        ("coach_deadline_reminder", "dashboard", "queued", ""),
        ("coach_deadline_reminder", "email", "queued", ""),
    ]
    assert sorted(keys(new[0])) == sorted(f"deadline_24h:{pk}" for pk in ids)
    assert "(within 24 hours)" in new[1].body_text
    jobs.coach_scan()
    assert len(coach_rows()) == 8


def test_a_pursuit_added_inside_the_24_hour_window_gets_only_that_reminder(make_user, frozen, nudge_limits):
    ada = make_user(email="ada@example.org")
    late = external(ada, "Late find", T0 + timedelta(hours=20))
    jobs.coach_scan()
    assert [keys(r) for r in coach_rows()] == [[f"deadline_24h:{late.pk}"]] * 2
    frozen.set(T0 + timedelta(hours=19))
    jobs.coach_scan()
    assert len(coach_rows()) == 2


# --- micro-tasks and snooze -------------------------------------------------------------------------


def test_micro_task_after_48_hours_without_progress_once_per_24_hours(make_user, frozen, nudge_limits):
    ada = make_user(email="ada@example.org")
    essay = external(ada, "Essay prize", T0 + timedelta(days=6, hours=23), application_type="essay")
    external(ada, "Far away", T0 + timedelta(days=30))

    frozen.set(T0 + timedelta(hours=48) - US)
    jobs.coach_scan()
    assert coach_rows() == []

    frozen.set(T0 + timedelta(hours=48))
    jobs.coach_scan()
    rows = coach_rows(ada)
    assert state(rows) == [
        ("coach_micro_task", "dashboard", "queued", ""),
        ("coach_micro_task", "email", "queued", ""),
    ]
    assert keys(rows[0]) == [f"micro_task:{essay.pk}"]
    assert rows[0].dashboard_text == "Next step: Write the first 150 words of your essay for Essay prize."
    assert rows[1].subject == "A small step for Essay prize"

    frozen.set(T0 + timedelta(hours=72) - US)
    jobs.coach_scan()  # within 24 h of the last nudge about this pursuit
    assert len(coach_rows()) == 2
    frozen.set(T0 + timedelta(hours=72))
    jobs.coach_scan()
    assert [keys(r) for r in coach_rows()[2:]] == [[f"micro_task:{essay.pk}"]] * 2


def test_snooze_holds_micro_tasks_back_until_it_ends(make_user, frozen, nudge_limits):
    ada = make_user(email="ada@example.org")
    external(ada, "Grant", T0 + timedelta(days=6, hours=12), application_type="form")
    snooze_set(user=ada, until=T0 + timedelta(hours=60))

    frozen.set(T0 + timedelta(hours=60) - US)
    jobs.coach_scan()
    assert coach_rows() == []
    frozen.set(T0 + timedelta(hours=60))
    jobs.coach_scan()
    assert [r.dashboard_text for r in coach_rows() if r.channel == "dashboard"] == [
        "Next step: Fill in one section of the form for Grant."
    ]


# --- the 24 h limit and folding ---------------------------------------------------------------------


def test_a_second_message_within_24_hours_is_held_back_then_folded_into_the_next(make_user, frozen, nudge_limits):
    ada = make_user(email="ada@example.org")
    soon = external(ada, "Fellowship", T0 + timedelta(hours=50))
    later = external(ada, "Residency", T0 + timedelta(hours=80))

    jobs.coach_scan()  # Fellowship enters the 72 h window
    frozen.set(T0 + timedelta(hours=8))
    jobs.coach_scan()  # Residency enters it: within 24 h of the first message
    held = coach_rows(ada)[2:]
    assert state(held) == [
        ("coach_deadline_reminder", "dashboard", "suppressed", "rate_limited"),
        ("coach_deadline_reminder", "email", "suppressed", "rate_limited"),
    ]
    assert keys(held[0]) == [f"deadline_72h:{later.pk}"]
    frozen.set(T0 + timedelta(hours=9))
    jobs.coach_scan()  # the held-back item counts as announced
    assert len(coach_rows()) == 4

    frozen.set(T0 + timedelta(hours=26))  # Fellowship enters the 24 h window; the limit has passed
    jobs.coach_scan()
    rows = coach_rows(ada)[4:]
    assert state(rows) == [
        ("coach_deadline_reminder", "dashboard", "queued", ""),
        ("coach_deadline_reminder", "email", "queued", ""),
    ]
    email = rows[1]
    assert keys(email) == [f"deadline_24h:{soon.pk}"]
    assert [item["key"] for item in email.context["earlier"]] == [f"deadline_72h:{later.pk}"]
    assert sorted(ref["id"] for ref in email.related) == sorted([str(soon.pk), str(later.pk)])
    assert "Held back from earlier messages:\n- Residency is due Thu 5 Mar 2026, 17:30 UTC" in email.body_text
    assert rows[0].dashboard_text.endswith("Also: Residency is due 5 Mar, 17:30.")

    frozen.set(T0 + timedelta(hours=56))  # Residency's 24 h window: nothing is held back any more
    jobs.coach_scan()
    last = coach_rows(ada)[6:]
    assert [r.status for r in last] == ["queued", "queued"]
    assert keys(last[0]) == [f"deadline_24h:{later.pk}", f"micro_task:{later.pk}"]
    assert last[0].context["earlier"] == []
    # Never more than one e-mail and one dashboard nudge delivered within 24 h.
    out = [r for r in coach_rows(ada) if r.status == "queued"]
    for channel in ("email", "dashboard"):
        times = sorted(r.created_at for r in out if r.channel == channel)
        assert all(b - a >= timedelta(hours=24) for a, b in zip(times, times[1:], strict=False))


# --- check-ins --------------------------------------------------------------------------------------


def test_check_in_21_days_after_submission_once(make_user, frozen, nudge_limits):
    ada = make_user(email="ada@example.org")
    sent = external(ada, "Fellowship", T0 + timedelta(days=5))
    pursuit_confirm(pursuit=sent, user=ada, state="submitted")
    frozen.set(T0 + timedelta(minutes=1))
    waiting = external(ada, "Residency", T0 + timedelta(days=5))
    pursuit_confirm(pursuit=waiting, user=ada, state="submitted")
    pursuit_update(pursuit=waiting, user=ada, data={"coach_state": "outcome_pending"})
    lost = external(ada, "Prize", T0 + timedelta(days=5))
    pursuit_confirm(pursuit=lost, user=ada, state="submitted")
    pursuit_update(pursuit=lost, user=ada, data={"coach_state": "lost"})

    frozen.set(T0 + timedelta(days=21) - US)
    jobs.coach_check_ins()
    assert CheckInTask.objects.count() == 0
    assert coach_rows() == []

    frozen.set(T0 + timedelta(days=21))
    jobs.coach_check_ins()
    task = CheckInTask.objects.get()
    assert (task.pursuit_id, task.user_id, task.due_at, task.status) == (
        sent.pk,
        ada.pk,
        T0 + timedelta(days=21),
        "pending",
    )
    rows = coach_rows(ada)
    assert state(rows) == [("coach_check_in", "dashboard", "queued", ""), ("coach_check_in", "email", "queued", "")]
    assert rows[0].context["pursuit_ids"] == [str(sent.pk)]
    assert rows[1].subject == "Have you heard back?"
    assert rows[0].dashboard_text == "Have you heard back about Fellowship?"
    assert "- Fellowship (submitted 2 Mar 2026)" in rows[1].body_text

    frozen.set(T0 + timedelta(days=21, minutes=1))
    jobs.coach_check_ins()
    assert CheckInTask.objects.get(pursuit=waiting).due_at == T0 + timedelta(days=21, minutes=1)
    assert not CheckInTask.objects.filter(pursuit=lost).exists()
    held = coach_rows(ada)[2:]
    assert state(held) == [
        ("coach_check_in", "dashboard", "suppressed", "rate_limited"),
        ("coach_check_in", "email", "suppressed", "rate_limited"),
    ]
    assert keys(held[0]) == [f"check_in:{waiting.pk}"]

    frozen.set(T0 + timedelta(days=23))
    jobs.coach_check_ins()
    assert CheckInTask.objects.count() == 2
    assert len(coach_rows()) == 4


# --- through the job runner, and two runs at once ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_jobs_run_through_the_runner_and_count(make_user, frozen, nudge_limits):
    ada = make_user(email="ada@example.org")
    external(ada, "Fellowship", T0 + timedelta(hours=30))
    run = run_job("coach_scan")
    assert (run.status, run.counts) == (
        "succeeded",
        {"messages": 1, "deadline_items": 1, "micro_tasks": 0, "dashboard_queued": 1, "email_queued": 1},
    )
    assert run_job("coach_scan").counts == {}
    frozen.set(T0 + timedelta(days=1))
    run = run_job("coach_momentum")
    assert (run.status, run.counts) == ("succeeded", {"pursuits": 1, "changed": 1, "deadlines_synced": 0})
    assert run_job("coach_check_ins").status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_create_one_check_in_and_one_reminder(make_user, frozen, nudge_limits):
    people = [make_user(email=f"p{i}@example.org") for i in range(4)]
    for person in people:
        submitted = external(person, "Fellowship", T0 + timedelta(days=5))
        pursuit_confirm(pursuit=submitted, user=person, state="submitted")
    for person in people:
        external(person, "Residency", T0 + timedelta(days=22))

    frozen.set(T0 + timedelta(days=19, hours=1))  # Residency is 71 h away
    results, refused, errors = race([jobs.coach_scan, jobs.coach_scan])
    assert (len(results), refused, errors) == (2, [], [])
    reminders = Notification.objects.filter(kind=notices.DEADLINE_REMINDER)
    assert sorted(reminders.values_list("status", flat=True)) == ["queued"] * 8  # one per person and channel
    assert {len(r.context["items"]) for r in reminders} == {2}  # the 72 h reminder and a micro-task

    frozen.set(T0 + timedelta(days=21))
    results, refused, errors = race([jobs.coach_check_ins, jobs.coach_check_ins])
    assert (len(results), refused, errors) == (2, [], [])
    assert CheckInTask.objects.count() == 4
    assert Notification.objects.filter(kind=notices.CHECK_IN).count() == 8


# --- internal deadlines and the portable recompute -------------------------------------------------


def test_the_daily_job_moves_internal_deadlines_with_their_program(
    make_user, make_program, mentorship_template, frozen
):
    from programs.models import Program

    ada = make_user(email="ada@example.org")
    pursuit = _internal(make_program, mentorship_template, ada, "Moved", closes_at=T0 + timedelta(days=30))
    untouched = external(ada, "Mine", T0 + timedelta(days=5))
    Program.objects.filter(pk=pursuit.application.program_id).update(
        closes_at=T0 + timedelta(days=6), name="Moved again"
    )

    assert jobs.internal_deadlines_sync(T0) == 1
    jobs.momentum_recompute(T0)

    pursuit.refresh_from_db()
    assert (pursuit.deadline, pursuit.title) == (T0 + timedelta(days=6), "Moved again")
    assert pursuit.momentum_score == momentum(deadline=T0 + timedelta(days=6), trust=0.8, now=T0, open_=True)
    assert Pursuit.objects.get(pk=untouched.pk).deadline == T0 + timedelta(days=5)
    assert jobs.internal_deadlines_sync(T0) == 0  # nothing left to move


def test_the_portable_recompute_gives_what_the_sql_gives(make_user, frozen):
    ada = make_user(email="ada@example.org")
    rng = random.Random(11)
    for i in range(40):
        deadline = T0 + timedelta(microseconds=rng.randrange(1, 75 * 86_400 * 10**6))
        external(ada, f"Random {i}", deadline, trust_score=rng.choice([None, 0.3, 1]))
    later = frozen.set(T0 + timedelta(days=3))

    Pursuit.objects.update(momentum_score=-1.0)
    assert jobs._momentum_in_python(later, 7) == 40
    portable = dict(Pursuit.objects.values_list("pk", "momentum_score"))
    Pursuit.objects.update(momentum_score=-1.0)
    assert jobs.momentum_recompute(later) == 40
    assert dict(Pursuit.objects.values_list("pk", "momentum_score")) == portable
