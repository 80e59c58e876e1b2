"""Job runs: the registry and the jobs API, the run_job command, one run at a time (advisory lock
raced with real transactions), abandoned runs taken over, and the beat schedule synced from code."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from config import schedule as config_schedule
from core import jobs as core_jobs
from core.jobs import JobAlreadyRunning, job_registry, register_job, run_job
from core.models import IdempotencyRecord, JobRun
from core.schedule import sync_schedule
from core.tasks import run_job_task

JOBS = "/api/v1/admin/jobs"
RUN = "/api/v1/admin/programs/jobs/run"
RUNS = "/api/v1/admin/job-runs"
PROBLEM = "application/problem+json"


@pytest.fixture
def temporary_job():
    """Register jobs for one test; they are removed afterwards."""
    added: list[str] = []

    def _register(name: str, fn, description: str = "A job of the tests.", **options) -> str:
        register_job(name, fn, description, **options)
        added.append(name)
        return name

    yield _register
    for name in added:
        core_jobs._JOBS.pop(name, None)


def _fail(context):
    context.count("before_failing", 2)
    raise ValueError("the partner API answered 503")


def _two_steps(context):
    context.progress("step 1 of 2: reading")
    context.count("read", 3)
    context.progress("step 2 of 2: writing")
    context.count("written", 1)


# --- The registry and the jobs API ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_jobs_list_shows_every_registered_job_with_its_schedule(operator_api, settings):
    response = operator_api.get(JOBS)
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()}
    assert list(rows) == list(job_registry())  # sorted by name
    assert {"crm_dispatch", "housekeeping"} <= set(rows)
    assert rows["housekeeping"] == {
        "name": "housekeeping",
        "description": "Delete expired idempotency keys and job runs older than 30 days.",
        "schedule": {"crontab": "17 3 * * *"},
        "last_run": None,
    }
    assert rows["crm_dispatch"]["schedule"] == {"every": 5}
    assert rows["crm_dispatch"]["description"] == (
        "Deliver new and due outbox events to subscribers; process due inbound partner events."
    )
    for name, row in rows.items():
        assert row["schedule"] == settings.JOB_SCHEDULE.get(name)


@pytest.mark.django_db
def test_the_jobs_list_shows_each_jobs_latest_run(operator_api):
    now = timezone.now()
    JobRun.objects.create(job="housekeeping", trigger="beat", status="failed", started_at=now - timedelta(days=2))
    latest = JobRun.objects.create(
        job="housekeeping",
        trigger="api",
        status="succeeded",
        started_at=now - timedelta(hours=1),
        finished_at=now - timedelta(hours=1) + timedelta(seconds=3),
        counts={"job_runs_deleted": 4},
    )
    JobRun.objects.create(job="crm_dispatch", trigger="beat", status="succeeded", started_at=now - timedelta(minutes=3))
    rows = {row["name"]: row for row in operator_api.get(JOBS).json()}
    last = rows["housekeeping"]["last_run"]
    assert (last["id"], last["status"], last["trigger"]) == (str(latest.id), "succeeded", "api")
    assert last["counts"] == {"job_runs_deleted": 4}
    assert last["duration_seconds"] == 3.0
    assert rows["crm_dispatch"]["last_run"]["status"] == "succeeded"


@pytest.mark.django_db
def test_the_jobs_list_costs_a_constant_number_of_queries(operator_api, django_assert_max_num_queries):
    now = timezone.now()
    JobRun.objects.create(job="housekeeping", trigger="beat", status="succeeded", started_at=now)
    operator_api.get(JOBS)  # warm up: the token's last use is recorded once
    with CaptureQueriesContext(connection) as one:
        operator_api.get(JOBS)
    budget = len(one.captured_queries)
    for name in job_registry():
        for hours in range(1, 6):
            JobRun.objects.create(job=name, trigger="beat", status="succeeded", started_at=now - timedelta(hours=hours))
    with django_assert_max_num_queries(budget):
        rows = operator_api.get(JOBS).json()
    assert all(row["last_run"] is not None for row in rows)


@pytest.mark.django_db
def test_a_writer_may_not_list_or_run_jobs(writer_api):
    for response in (writer_api.get(JOBS), writer_api.post(RUN, {"job": "housekeeping"}, format="json")):
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/permission-denied"
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_running_an_unknown_job_answers_400_naming_the_field(operator_api):
    response = operator_api.post(RUN, {"job": "nope"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    assert body["errors"]["job"] == f"No job named 'nope'. Jobs: {', '.join(job_registry())}."
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_running_without_a_job_name_answers_400(operator_api):
    response = operator_api.post(RUN, {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"job": "This field is required."}


@pytest.mark.django_db
def test_a_job_refuses_to_run_inside_a_transaction():
    with pytest.raises(RuntimeError, match="Jobs run outside transactions"):
        run_job("housekeeping")
    assert not JobRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_running_housekeeping_over_the_api_answers_its_finished_run(operator, operator_api):
    now = timezone.now()
    old = JobRun.objects.create(
        job="housekeeping",
        trigger="beat",
        status="succeeded",
        started_at=now - timedelta(days=40),
        finished_at=now - timedelta(days=40),
    )
    recent = JobRun.objects.create(
        job="housekeeping",
        trigger="beat",
        status="succeeded",
        started_at=now - timedelta(days=2),
        finished_at=now - timedelta(days=2),
    )
    record = IdempotencyRecord.objects.create(scope="x", key="k", method="POST", path="/x", fingerprint="f")
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=now - timedelta(hours=25))

    response = operator_api.post(RUN, {"job": "housekeeping"}, format="json")
    assert response.status_code == 200
    body = response.json()
    run = JobRun.objects.get(pk=body["id"])
    assert {k: body[k] for k in ("job", "trigger", "triggered_by", "status", "counts", "error", "progress")} == {
        "job": "housekeeping",
        "trigger": "api",
        "triggered_by": str(operator.id),
        "status": "succeeded",
        "counts": {"idempotency_keys_deleted": 1, "job_runs_deleted": 1},
        "error": "",
        "progress": "",
    }
    assert body["finished_at"] is not None
    assert body["duration_seconds"] == (run.finished_at - run.started_at).total_seconds()
    assert not JobRun.objects.filter(pk=old.pk).exists()
    assert JobRun.objects.filter(pk=recent.pk).exists()
    assert not IdempotencyRecord.objects.filter(pk=record.pk).exists()

    detail = operator_api.get(f"{RUNS}/{run.id}").json()
    assert (detail["id"], detail["status"], detail["trigger"]) == (str(run.id), "succeeded", "api")
    listed = operator_api.get(RUNS, {"job": "housekeeping", "trigger": "api"}).json()
    assert [row["id"] for row in listed["results"]] == [str(run.id)]
    assert operator_api.get(RUNS, {"status": "failed"}).json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_that_raises_is_answered_200_with_the_failed_run(operator_api, temporary_job):
    temporary_job("test_failing_job", _fail)
    response = operator_api.post(RUN, {"job": "test_failing_job"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["job"], body["status"], body["trigger"]) == ("test_failing_job", "failed", "api")
    assert body["error"] == "ValueError: the partner API answered 503"
    assert body["counts"] == {"before_failing": 2}
    assert body["finished_at"] is not None
    run = JobRun.objects.get(job="test_failing_job")
    assert (run.status, run.error) == ("failed", "ValueError: the partner API answered 503")
    # the lock is released: the job can run again at once
    assert operator_api.post(RUN, {"job": "test_failing_job"}, format="json").json()["status"] == "failed"
    assert JobRun.objects.filter(job="test_failing_job").count() == 2


# --- The command ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_progress_and_the_result(temporary_job):
    temporary_job("test_two_steps", _two_steps)
    out = StringIO()
    call_command("run_job", "test_two_steps", stdout=out)
    run = JobRun.objects.get(job="test_two_steps")
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["Running test_two_steps ...", "  step 1 of 2: reading", "  step 2 of 2: writing"]
    assert re.fullmatch(rf"test_two_steps: succeeded in \d+\.\d\ds \(read=3, written=1\); run {run.id}", lines[3])
    assert len(lines) == 4
    assert (run.trigger, run.status, run.counts, run.progress) == (
        "command",
        "succeeded",
        {"read": 3, "written": 1},
        "step 2 of 2: writing",
    )


@pytest.mark.django_db(transaction=True)
def test_the_command_runs_housekeeping():
    out = StringIO()
    call_command("run_job", "housekeeping", stdout=out)
    run = JobRun.objects.get(job="housekeeping")
    lines = out.getvalue().splitlines()
    assert lines[0] == "Running housekeeping ..."
    assert re.fullmatch(
        rf"housekeeping: succeeded in \d+\.\d\ds \(idempotency_keys_deleted=0, job_runs_deleted=0\); run {run.id}",
        lines[1],
    )
    assert (run.trigger, run.status) == ("command", "succeeded")


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_makes_the_command_fail(temporary_job):
    temporary_job("test_failing_job", _fail)
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("run_job", "test_failing_job", stdout=out)
    assert str(raised.value) == "test_failing_job failed: ValueError: the partner API answered 503"
    run = JobRun.objects.get(job="test_failing_job")
    assert re.search(rf"test_failing_job: failed in \d+\.\d\ds \(before_failing=2\); run {run.id}", out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_the_command_refuses_an_unknown_job():
    with pytest.raises(CommandError) as raised:
        call_command("run_job", "nope", stdout=StringIO())
    assert str(raised.value).startswith("No job named 'nope'. Jobs: ")
    assert "housekeeping" in str(raised.value)


@pytest.mark.django_db
def test_the_command_lists_the_jobs():
    out = StringIO()
    call_command("run_job", "--list", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == list(job_registry())
    assert f"{'housekeeping':28} Delete expired idempotency keys and job runs older than 30 days." in lines


# --- One run at a time ----------------------------------------------------------------------------


class Gate:
    """A job that signals it started and waits until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, context) -> None:
        self.calls += 1
        self.started.set()
        assert self.release.wait(timeout=30), "the test never released the job"
        context.count("waited")


def _in_thread(fn, results: dict, key: str) -> threading.Thread:
    def run():
        try:
            results[key] = fn()
        except BaseException as exc:  # noqa: BLE001 - examined by the test
            results[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_an_api_trigger_while_the_job_runs_answers_409_naming_the_run(operator_api, temporary_job):
    gate = Gate()
    temporary_job("test_gate", gate)
    results: dict = {}
    first = _in_thread(lambda: run_job("test_gate", trigger="beat"), results, "first")
    try:
        assert gate.started.wait(timeout=30)
        running = JobRun.objects.get(job="test_gate")
        assert running.status == "running"
        response = operator_api.post(RUN, {"job": "test_gate"}, format="json")
    finally:
        gate.release.set()
        first.join(timeout=30)
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["title"], body["status"]) == (
        "/problems/job-already-running",
        "Job already running",
        409,
    )
    assert body["detail"] == (
        f"The job 'test_gate' is already running: run {running.id} started at {running.started_at.isoformat()} (beat)."
    )
    assert results["first"].status == "succeeded"
    assert JobRun.objects.filter(job="test_gate").count() == 1
    assert gate.calls == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_api_triggers_at_once_make_one_run(operator, client_for, temporary_job):
    gate = Gate()
    temporary_job("test_gate", gate)
    clients = [client_for(operator), client_for(operator)]
    barrier = threading.Barrier(2)
    results: dict = {}

    def trigger(client):
        barrier.wait(timeout=10)
        return client.post(RUN, {"job": "test_gate"}, format="json")

    threads = [_in_thread(lambda c=c: trigger(c), results, f"t{i}") for i, c in enumerate(clients)]
    try:
        # The loser answers while the winner's job is still waiting for the release.
        for _ in range(3000):
            if results:
                break
            time.sleep(0.01)
        assert len(results) == 1, "no trigger answered while the job was running"
        (loser,) = results.values()
    finally:
        gate.release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not isinstance(loser, BaseException), loser
    (run,) = JobRun.objects.filter(job="test_gate")
    winner = next(r for r in results.values() if r is not loser)
    assert (winner.status_code, loser.status_code) == (200, 409)
    assert winner.json()["id"] == str(run.id)
    assert winner.json()["counts"] == {"waited": 1}
    assert loser["Content-Type"] == PROBLEM
    assert loser.json()["type"] == "/problems/job-already-running"
    assert f"run {run.id} started at" in loser.json()["detail"]
    assert gate.calls == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_run_job_in_two_threads_at_once_runs_once(temporary_job):
    gate = Gate()
    temporary_job("test_gate", gate)
    barrier = threading.Barrier(2)
    results: dict = {}

    def go():
        barrier.wait(timeout=10)
        return run_job("test_gate", trigger="command")

    threads = [_in_thread(go, results, key) for key in ("a", "b")]
    try:
        for _ in range(3000):
            if results:
                break
            time.sleep(0.01)
    finally:
        gate.release.set()
        for thread in threads:
            thread.join(timeout=30)
    conflicts = [r for r in results.values() if isinstance(r, JobAlreadyRunning)]
    runs = [r for r in results.values() if isinstance(r, JobRun)]
    assert (len(conflicts), len(runs)) == (1, 1), results
    (row,) = JobRun.objects.filter(job="test_gate")
    assert runs[0].pk == row.pk
    assert row.status == "succeeded"
    assert conflicts[0].run is not None and conflicts[0].run.pk == row.pk
    assert conflicts[0].status == 409
    assert gate.calls == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_is_a_no_op_while_the_job_runs(temporary_job):
    gate = Gate()
    temporary_job("test_gate", gate)
    results: dict = {}
    first = _in_thread(lambda: run_job("test_gate", trigger="command"), results, "first")
    try:
        assert gate.started.wait(timeout=30)
        run_job_task.apply(kwargs={"job": "test_gate"}).get()  # suppressed JobAlreadyRunning
    finally:
        gate.release.set()
        first.join(timeout=30)
    assert list(JobRun.objects.filter(job="test_gate").values_list("trigger", flat=True)) == ["command"]
    run_job_task.apply(kwargs={"job": "test_gate"}).get()
    assert sorted(JobRun.objects.filter(job="test_gate").values_list("trigger", flat=True)) == ["beat", "command"]


@pytest.mark.django_db(transaction=True)
def test_a_run_left_running_by_a_dead_worker_is_taken_over(operator_api):
    started = timezone.now() - timedelta(minutes=2)
    dead = JobRun.objects.create(job="housekeeping", trigger="beat", status="running", started_at=started)
    response = operator_api.post(RUN, {"job": "housekeeping"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    dead.refresh_from_db()
    assert dead.status == "abandoned"
    assert dead.error == "The worker running it stopped."
    assert dead.finished_at is not None
    assert JobRun.objects.filter(job="housekeeping", status="running").count() == 0
    assert JobRun.objects.filter(job="housekeeping").count() == 2


# --- The beat schedule ------------------------------------------------------------------------------


def _job_tasks() -> dict[str, PeriodicTask]:
    return {
        t.name: t for t in PeriodicTask.objects.filter(name__startswith="job: ").select_related("interval", "crontab")
    }


def _crontab(task: PeriodicTask) -> str:
    c = task.crontab
    return f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"


@pytest.mark.django_db
def test_sync_schedule_writes_the_schedule_of_config_into_beat():
    PeriodicTask.objects.filter(name__startswith="job: ").delete()
    out = StringIO()
    call_command("sync_schedule", stdout=out)
    registered = job_registry()
    expected = {name: spec for name, spec in config_schedule.SCHEDULE.items() if name in registered}
    assert {"crm_dispatch", "housekeeping"} <= set(expected)
    tasks = _job_tasks()
    assert set(tasks) == {f"job: {name}" for name in expected}
    for name, spec in expected.items():
        task = tasks[f"job: {name}"]
        assert task.task == "core.run_job"
        assert json.loads(task.kwargs) == {"job": name}
        assert task.enabled is True
        assert task.description == registered[name].description
        if "every" in spec:
            assert (task.interval.every, task.interval.period, task.crontab) == (spec["every"], "seconds", None)
        else:
            assert task.interval is None
            assert _crontab(task) == spec["crontab"]
            assert str(task.crontab.timezone) == "UTC"
    assert (tasks["job: crm_dispatch"].interval.every, _crontab(tasks["job: housekeeping"])) == (5, "17 3 * * *")
    assert out.getvalue().splitlines()[-1] == f"Schedule synced: {len(expected)} created, 0 updated, 0 removed."


@pytest.mark.django_db
def test_sync_schedule_keeps_an_operators_pause_and_removes_dropped_entries(settings):
    PeriodicTask.objects.filter(name__startswith="job: ").delete()
    PeriodicTask.objects.create(
        name="operator: cleanup",
        task="celery.backend_cleanup",
        interval=IntervalSchedule.objects.create(every=3600, period="seconds"),
    )
    settings.JOB_SCHEDULE = {
        "crm_dispatch": {"every": 7},
        "housekeeping": {"crontab": "5 4 * * 1"},
        "no_such_job": {"every": 60},
    }
    assert sync_schedule() == {"created": 2, "updated": 0, "removed": 0, "unknown": 1}
    tasks = _job_tasks()
    assert set(tasks) == {"job: crm_dispatch", "job: housekeeping"}
    assert tasks["job: crm_dispatch"].interval.every == 7
    assert _crontab(tasks["job: housekeeping"]) == "5 4 * * 1"

    PeriodicTask.objects.filter(name="job: crm_dispatch").update(enabled=False)  # an operator pauses it
    assert sync_schedule() == {"created": 0, "updated": 0, "removed": 0, "unknown": 1}
    settings.JOB_SCHEDULE = {"crm_dispatch": {"every": 9}}  # retimed; housekeeping dropped
    said: list[str] = []
    assert sync_schedule(say=said.append) == {"created": 0, "updated": 1, "removed": 1, "unknown": 0}
    assert said == ["updated crm_dispatch"]
    tasks = _job_tasks()
    assert set(tasks) == {"job: crm_dispatch"}
    assert tasks["job: crm_dispatch"].enabled is False
    assert tasks["job: crm_dispatch"].interval.every == 9
    assert PeriodicTask.objects.filter(name="operator: cleanup").exists()

    settings.JOB_SCHEDULE = {"crm_dispatch": {"crontab": "*/2 * * * *"}}  # from an interval to a crontab
    assert sync_schedule()["updated"] == 1
    task = _job_tasks()["job: crm_dispatch"]
    assert (task.interval, _crontab(task), task.enabled) == (None, "*/2 * * * *", False)
    assert CrontabSchedule.objects.filter(minute="*/2").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("trigger", "kept"),
    [("beat", False), ("kick", False), ("api", True), ("command", True), ("admin", True)],
)
def test_an_idle_run_of_a_frequent_job_leaves_no_row_unless_a_person_started_it(temporary_job, trigger, kept):
    name = temporary_job("frequent_idle", lambda context: context.count("sent", 0), record_idle=False)
    run = run_job(name, trigger=trigger)
    assert run.status == "succeeded"
    assert JobRun.objects.filter(job=name).exists() is kept


@pytest.mark.django_db(transaction=True)
def test_a_frequent_job_that_did_work_or_failed_is_recorded(temporary_job):
    busy = temporary_job("frequent_busy", lambda context: context.count("sent", 2), record_idle=False)
    failing = temporary_job("frequent_failing", _fail, record_idle=False)
    run_job(busy, trigger="beat")
    run_job(failing, trigger="beat")
    assert list(JobRun.objects.filter(job=busy).values_list("status", "counts")) == [("succeeded", {"sent": 2})]
    assert list(JobRun.objects.filter(job=failing).values_list("status", flat=True)) == ["failed"]
