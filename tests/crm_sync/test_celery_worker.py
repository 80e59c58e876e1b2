"""Celery for real: a worker subprocess against the local Redis and the test database picks up the
tasks the product sends on commit (the dispatcher kick, inbound processing) and beat's job task.

The worker consumes one queue of its own (a fresh name per run), so messages of other runs or
other test sessions sharing the broker cannot reach it, and it cannot take theirs."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from kombu import Exchange, Queue
from standardwebhooks.webhooks import Webhook

from config.celery import app
from core.models import JobRun
from core.tasks import run_job_task
from crm_sync import hooks
from crm_sync import tasks as crm_tasks
from crm_sync.models import Delivery, InboundEvent
from crm_sync.services import inbound_source_create, subscriber_create
from enrollments.services import enrollment_create
from tests.crm_sync.inbound_support import SECRET, envelope, kintell_session, post_event

pytestmark = [pytest.mark.django_db(transaction=True)]

STARTUP_SECONDS = 60
WAIT_SECONDS = 30


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def _wait_for(condition: Callable[[], object], seconds: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    tail = log.read_text()[-4000:] if log is not None and log.exists() else ""
    raise AssertionError(f"timed out after {seconds}s waiting for {what}\n--- worker log ---\n{tail}")


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[dict]:
    """A `celery worker` subprocess on the test database, consuming a queue of its own."""
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    base = Path(django_settings.BASE_DIR)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(base / ".venv" / "bin" / "celery"),
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=base, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the worker exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            return " ready." in log.read_text()

        _wait_for(ready, STARTUP_SECONDS, "the worker to be ready", log)
        yield {"queue": queue, "log": log, "process": process}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with app.connection_for_write() as conn:  # forget the queue and its binding in Redis
            bound = Queue(queue, Exchange(queue, type="direct"), routing_key=queue)(conn.default_channel)
            bound.declare()
            bound.delete()


@pytest.fixture
def to_worker(worker, monkeypatch) -> dict:
    """Send what the product queues with `.delay()` to the worker's own queue."""
    for task in (crm_tasks.dispatch_kick, crm_tasks.process_inbound_event):
        monkeypatch.setattr(
            task, "delay", lambda *args, _task=task, **kwargs: _task.apply_async(args, kwargs, queue=worker["queue"])
        )
    return worker


def test_the_worker_is_ready_and_alone_on_its_queue(worker):
    assert worker["process"].poll() is None
    log = worker["log"].read_text()
    assert f"{worker['queue']}" in log
    assert "crm_sync.dispatch_kick" in log  # the registered tasks are listed at startup
    assert "crm_sync.process_inbound_event" in log
    assert "core.run_job" in log


def test_a_committed_event_is_delivered_by_the_kicked_worker(to_worker, httpserver, settings, make_user, program):
    subscriber = subscriber_create(name="CRM", url=httpserver.url_for("/hook"), event_types=["enrollment.created"])
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    settings.CRM_DISPATCH_KICK_ON_COMMIT = True

    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")

    delivery = _wait_for(
        lambda: Delivery.objects.filter(status="succeeded").first(), WAIT_SECONDS, "the delivery", to_worker["log"]
    )
    assert (delivery.subscriber_id, delivery.event_type, delivery.attempts) == (subscriber.id, "enrollment.created", 1)
    assert delivery.last_status_code == 200
    ((request, response),) = httpserver.log
    assert response.status_code == 200
    body = request.get_data()
    verified = Webhook(subscriber.secret).verify(body, dict(request.headers))
    assert verified == json.loads(body)
    assert verified["event_type"] == "enrollment.created"
    assert verified["subject"] == {"type": "enrollment", "id": str(enrollment.id)}
    assert request.headers["webhook-id"] == str(delivery.event_id)

    run = _wait_for(
        lambda: JobRun.objects.filter(job="crm_dispatch", trigger="kick", status="succeeded").first(),
        WAIT_SECONDS,
        "the kicked job run",
        to_worker["log"],
    )
    assert run.counts["fanned_out"] == 1
    assert run.counts["delivered"] == 1
    assert run.finished_at is not None
    assert JobRun.objects.filter(job="crm_dispatch").exclude(trigger="kick").count() == 0


def test_an_accepted_inbound_event_is_processed_by_the_worker(to_worker, client, settings):
    # The worker has the same handlers as this process (registered by the apps): mentorship's
    # handler runs there and fails, as nobody is linked to these Kintell ids (retried later).
    assert hooks.handler_for("kintell.session.completed") is not None
    inbound_source_create(key="kintell", secret=SECRET)
    settings.CRM_INBOUND_PROCESS_ON_COMMIT = True

    response = post_event(
        client, "kintell", envelope("kintell.session.completed", 1, kintell_session(), event_id="k-1")
    )
    assert response.status_code == 202
    assert response.json() == {"event_id": "k-1", "status": "received", "duplicate": False}

    event = _wait_for(
        lambda: InboundEvent.objects.filter(event_id="k-1", status="failed").first(),
        WAIT_SECONDS,
        "the worker to process the inbound event",
        to_worker["log"],
    )
    assert event.error == "NotFound: volunteer_external_id k-v-1: no Kintell user with this id yet (retried later)."
    assert event.next_attempt_at is not None
    assert event.attempts == 1
    assert "crm_sync.process_inbound_event" in to_worker["log"].read_text()


def test_beats_job_task_runs_on_the_worker(worker):
    run_job_task.apply_async(kwargs={"job": "housekeeping"}, queue=worker["queue"])
    run = _wait_for(
        lambda: JobRun.objects.filter(job="housekeeping", status="succeeded").first(),
        WAIT_SECONDS,
        "the housekeeping run",
        worker["log"],
    )
    assert run.trigger == "beat"
    assert run.counts == {"idempotency_keys_deleted": 0, "job_runs_deleted": 0}
