"""Races on real PostgreSQL transactions: four dispatchers on one outbox deliver each event to each
subscriber exactly once (and in order per subject); two triggers of the dispatch job make one run."""

import threading
from collections import Counter, defaultdict

import pytest
from django.db import connection, transaction

from core.jobs import JobAlreadyRunning, run_job
from core.models import JobRun
from crm_sync import jobs as crm_jobs
from crm_sync.dispatcher import dispatch, fan_out
from crm_sync.models import Delivery, OutboxEvent
from tests.crm_sync.outbound_helpers import Receiver, add_subscriber, emit_sync

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

EVENTS = 300
SUBJECTS = 30


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


def _race(n, target):
    """Run `target(i)` in n threads released together; returns (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def test_four_dispatchers_deliver_each_event_to_each_subscriber_once(receiver):
    add_subscriber(receiver, "/a", ["*"])
    add_subscriber(receiver, "/b", ["*"])
    events = [emit_sync(f"subject-{i % SUBJECTS}", i) for i in range(EVENTS)]
    expected = defaultdict(list)
    for event in events:
        expected[event.subject_id].append(str(event.pk))

    results, errors = _race(4, lambda i: dispatch(batch_size=5 + i, time_budget=120))
    assert errors == []

    assert sum(r["fanned_out"] for r in results) == EVENTS
    assert sum(r["delivered"] for r in results) == 2 * EVENTS
    assert sum(r["retrying"] + r["dead"] for r in results) == 0
    assert sum(1 for r in results if r["delivered"]) >= 2  # the work was really shared
    hits = Counter((r.path, r.webhook_id) for r in receiver.requests)
    assert len(hits) == 2 * EVENTS
    assert set(hits.values()) == {1}
    assert {webhook_id for _, webhook_id in hits} == {str(e.pk) for e in events}
    assert receiver.unverified() == []
    assert Delivery.objects.count() == 2 * EVENTS
    assert set(Delivery.objects.values_list("status", "attempts")) == {("succeeded", 1)}
    assert OutboxEvent.objects.filter(fanned_out_at__isnull=True).count() == 0
    # Each subscriber received each subject's events in order.
    for path in ("/a", "/b"):
        received = defaultdict(list)
        for r in receiver.on(path):
            received[r.subject[1]].append(r.webhook_id)
        assert received == expected, path


def test_a_later_event_does_not_overtake_one_still_being_fanned_out(receiver):
    """Dispatcher A has fanned out the first event of a subject but not committed yet (paused);
    dispatcher B must not deliver the subject's second event before the first."""
    add_subscriber(receiver, "/ordered", ["*"])
    first = emit_sync("A", 1)
    second = emit_sync("A", 2)
    fanned_by_a = threading.Event()
    release_a = threading.Event()

    a_results = []

    def paused_dispatcher_a():
        try:
            with transaction.atomic():
                a_results.append(fan_out(1))
                fanned_by_a.set()
                release_a.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=paused_dispatcher_a)
    thread.start()
    assert fanned_by_a.wait(10)
    seen_while_a_paused = []

    def resume_a():
        seen_while_a_paused.extend(r.event_id for r in receiver.requests)
        release_a.set()

    timer = threading.Timer(1.0, resume_a)
    timer.start()
    try:
        totals = dispatch(time_budget=10)  # dispatcher B
    finally:
        timer.join()
        release_a.set()
        thread.join(20)
    assert a_results == [1]
    assert seen_while_a_paused == []
    assert totals == {"fanned_out": 1, "delivered": 2, "retrying": 0, "dead": 0}
    assert [r.event_id for r in receiver.requests] == [str(first.pk), str(second.pk)]


def test_two_triggers_of_the_dispatch_job_at_once_make_one_run(receiver, monkeypatch):
    add_subscriber(receiver, "/jobs", ["*"])
    for i in range(20):
        emit_sync(f"s{i % 4}", i)
    loser_done = threading.Event()
    real_dispatch = crm_jobs.dispatch

    def slow_dispatch(**kwargs):
        loser_done.wait(10)  # keep the winning run in progress until the other trigger has answered
        return real_dispatch(**kwargs)

    monkeypatch.setattr(crm_jobs, "dispatch", slow_dispatch)

    def trigger(i):
        try:
            return run_job("crm_dispatch", trigger=JobRun.Trigger.API)
        except JobAlreadyRunning:
            loser_done.set()
            raise

    results, errors = _race(2, trigger)
    runs = [r for r in results if r is not None]
    assert len(runs) == 1
    (run,) = runs
    (error,) = errors
    assert isinstance(error, JobAlreadyRunning)
    assert error.status == 409
    assert error.detail.startswith("The job 'crm_dispatch' is already running")
    assert JobRun.objects.filter(job="crm_dispatch").count() == 1
    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.trigger == JobRun.Trigger.API
    assert run.counts["delivered"] == 20
    assert run.counts["fanned_out"] == 20
    assert len(receiver.requests) == 20
    assert set(Counter(r.webhook_id for r in receiver.requests).values()) == {1}


def test_a_trigger_while_the_dispatch_job_runs_names_the_running_run(receiver, monkeypatch):
    add_subscriber(receiver, "/jobs", ["*"])
    emit_sync("s1")
    running = threading.Event()
    release = threading.Event()
    real_dispatch = crm_jobs.dispatch

    def held_dispatch(**kwargs):
        running.set()
        release.wait(10)
        return real_dispatch(**kwargs)

    monkeypatch.setattr(crm_jobs, "dispatch", held_dispatch)
    outcome = []

    def first_trigger():
        try:
            outcome.append(run_job("crm_dispatch", trigger=JobRun.Trigger.BEAT))
        finally:
            connection.close()

    thread = threading.Thread(target=first_trigger)
    thread.start()
    try:
        assert running.wait(10)
        with pytest.raises(JobAlreadyRunning) as excinfo:
            run_job("crm_dispatch", trigger=JobRun.Trigger.API)
    finally:
        release.set()
        thread.join(20)
    (run,) = outcome
    error = excinfo.value
    assert error.run.pk == run.pk
    assert error.detail == (
        f"The job 'crm_dispatch' is already running: run {run.pk} started at {run.started_at.isoformat()} (beat)."
    )
    run.refresh_from_db()
    assert (run.status, run.counts["delivered"]) == (JobRun.Status.SUCCEEDED, 1)
    assert JobRun.objects.filter(job="crm_dispatch").count() == 1
