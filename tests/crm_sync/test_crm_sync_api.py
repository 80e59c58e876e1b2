"""The CRM sync queue: POST/GET /api/v1/admin/programs/{program_id}/crm-sync, walked through every
status with a real receiver standing in for the CRM."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_sync.dispatcher import dispatch, fan_out
from crm_sync.models import CrmSyncItem, OutboxEvent
from enrollments.crm import crm_enrollments
from enrollments.services import enrollment_create
from tests.crm_sync.outbound_helpers import Receiver, Reply, add_subscriber, install_fake_clock

pytestmark = pytest.mark.django_db

EMPTY = {"queued": 0, "pending": 0, "sent": 0, "failed": 0, "dead": 0}


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def enrollments(make_user, program):
    ada = make_user(email="ada@example.org", full_name="Ada Lovelace")
    alan = make_user(email="alan@example.org", full_name="Alan Turing")
    return [
        enrollment_create(user=ada, program=program, role="mentee"),
        enrollment_create(user=alan, program=program, role="mentee"),
        enrollment_create(user=ada, program=program, role="mentor"),
    ]


def _url(program_id):
    return f"/api/v1/admin/programs/{program_id}/crm-sync"


def _sync_events():
    return list(OutboxEvent.objects.filter(event_type="program_crm_sync_requested").order_by("occurred_at"))


def test_queue_all_enrollments_of_a_program(operator_api, operator, program, enrollments):
    response = operator_api.post(_url(program.pk), {"entity_type": "enrollment", "reason": "backfill"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["program_id"] == str(program.pk)
    assert body["entity_type"] == "enrollment"
    assert body["queued"] == 3
    assert sorted(i["entity_id"] for i in body["items"]) == sorted(str(e.pk) for e in enrollments)
    for item in body["items"]:
        assert (item["status"], item["attempts"], item["last_error"], item["reason"]) == ("queued", 0, "", "backfill")
        assert item["entity_type"] == "enrollment"
    events = _sync_events()
    assert len(events) == 3
    records = crm_enrollments(program.pk, None)
    for event in events:
        assert (event.subject_type, event.actor, event.schema_version) == ("enrollment", f"user:{operator.pk}", 1)
        assert event.payload == {
            "program_id": str(program.pk),
            "entity_type": "enrollment",
            "entity_id": event.subject_id,
            "reason": "backfill",
            "record": json.loads(json.dumps(records[event.subject_id], default=str)),
        }
        assert event.payload["record"]["program_key"] == program.program_key
    items = CrmSyncItem.objects.all()
    assert {(i.entity_id, i.event_id) for i in items} == {(e.subject_id, e.pk) for e in events}
    assert {i.requested_by_id for i in items} == {operator.pk}


def test_queue_specific_enrollments(integrator_api, program, enrollments):
    wanted = [str(enrollments[1].pk)]
    response = integrator_api.post(_url(program.pk), {"entity_type": "enrollment", "entity_ids": wanted}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["queued"] == 1
    assert [i["entity_id"] for i in response.json()["items"]] == wanted
    (event,) = _sync_events()
    assert event.subject_id == wanted[0]
    assert event.payload["record"]["enrollment_id"] == wanted[0]
    assert event.payload["record"]["role"] == "mentee"
    assert event.payload["reason"] == ""


def test_queue_participants(operator_api, program, enrollments):
    ada = enrollments[0].user
    response = operator_api.post(_url(program.pk), {"entity_type": "participant"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["queued"] == 2  # two people, three enrollments
    events = {e.subject_id: e for e in _sync_events()}
    assert set(events) == {str(ada.pk), str(enrollments[1].user_id)}
    record = events[str(ada.pk)].payload["record"]
    assert record["email"] == "ada@example.org"
    assert record["full_name"] == "Ada Lovelace"
    assert record["program_id"] == str(program.pk)
    assert sorted((r["role"], r["enrollment_id"]) for r in record["roles"]) == sorted(
        [("mentee", str(enrollments[0].pk)), ("mentor", str(enrollments[2].pk))]
    )
    assert events[str(ada.pk)].subject_type == "participant"

    response = operator_api.post(
        _url(program.pk), {"entity_type": "participant", "entity_ids": [str(ada.pk)]}, format="json"
    )
    assert response.status_code == 202
    assert [i["entity_id"] for i in response.json()["items"]] == [str(ada.pk)]


def test_a_program_without_records_queues_nothing(operator_api, program):
    response = operator_api.post(_url(program.pk), {"entity_type": "enrollment"}, format="json")
    assert response.status_code == 202
    assert (response.json()["queued"], response.json()["items"]) == (0, [])
    assert _sync_events() == []


def test_an_unknown_entity_type_is_refused_naming_the_allowed_ones(operator_api, program, enrollments):
    response = operator_api.post(_url(program.pk), {"entity_type": "invoice"}, format="json")
    assert response.status_code == 400
    assert response["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {"entity_type": "Use one of: application, enrollment, outcome, participant."}
    assert _sync_events() == []


def test_ids_not_of_the_program_are_refused(operator_api, make_user, program, make_program, mentorship_template):
    mine = enrollment_create(user=make_user(), program=program, role="mentee")
    other_program = make_program(mentorship_template, name="Other program")
    theirs = enrollment_create(user=make_user(), program=other_program, role="mentee")
    response = operator_api.post(
        _url(program.pk),
        {"entity_type": "enrollment", "entity_ids": [str(mine.pk), str(theirs.pk), "not-a-uuid"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"entity_ids": f"Not enrollments of this program: {theirs.pk}, not-a-uuid."}
    assert _sync_events() == []
    assert CrmSyncItem.objects.count() == 0
    response = operator_api.post(
        _url(program.pk), {"entity_type": "participant", "entity_ids": [str(theirs.user_id)]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"entity_ids": f"Not participants of this program: {theirs.user_id}."}


def test_an_empty_id_list_is_refused(operator_api, program):
    response = operator_api.post(_url(program.pk), {"entity_type": "enrollment", "entity_ids": []}, format="json")
    assert response.status_code == 400
    assert "entity_ids" in response.json()["errors"]


def test_an_unknown_program_answers_404(operator_api):
    missing = uuid.uuid4()
    response = operator_api.post(_url(missing), {"entity_type": "enrollment"}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == f"No program with the id {missing}."
    response = operator_api.get(_url(missing))
    assert response.status_code == 404


def test_permissions(writer_api, anon_api, program):
    assert writer_api.post(_url(program.pk), {"entity_type": "enrollment"}, format="json").status_code == 403
    assert writer_api.get(_url(program.pk)).status_code == 403
    assert anon_api.post(_url(program.pk), {"entity_type": "enrollment"}, format="json").status_code == 401
    assert anon_api.get(_url(program.pk)).status_code == 401
    assert _sync_events() == []


def test_an_idempotent_retry_queues_once(operator_api, program, enrollments):
    headers = {"HTTP_IDEMPOTENCY_KEY": "sync-1"}
    first = operator_api.post(_url(program.pk), {"entity_type": "enrollment"}, format="json", **headers)
    again = operator_api.post(_url(program.pk), {"entity_type": "enrollment"}, format="json", **headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert len(_sync_events()) == 3
    assert CrmSyncItem.objects.count() == 3


# --- Status walk-through ------------------------------------------------------------------------


def _status(api, program):
    response = api.get(_url(program.pk))
    assert response.status_code == 200, response.content
    return response.json()


def test_items_walk_through_every_status(operator_api, program, enrollments, receiver, monkeypatch, settings):
    settings.CRM_MAX_ATTEMPTS = 2
    fake = install_fake_clock(monkeypatch)
    first, second = str(enrollments[0].pk), str(enrollments[1].pk)
    # A partner webhook taking every event is not the CRM: it does not move the CRM status.
    add_subscriber(receiver, "/partner", ["*"])

    response = operator_api.post(_url(program.pk), {"entity_type": "enrollment", "entity_ids": [first]}, format="json")
    assert response.status_code == 202
    status = _status(operator_api, program)
    assert status["program_id"] == str(program.pk)
    assert (status["total"], status["counts"]) == (1, {**EMPTY, "queued": 1})
    (item,) = status["items"]
    assert (item["entity_id"], item["status"], item["attempts"], item["last_error"]) == (first, "queued", 0, "")
    assert item["last_attempt_at"] is None

    # No CRM subscriber yet: delivered to the partner only, still queued for the CRM.
    dispatch(time_budget=5)
    assert len(receiver.on("/partner")) == 4  # three enrollment.created + the sync request
    status = _status(operator_api, program)
    assert status["counts"] == {**EMPTY, "queued": 1}

    add_subscriber(receiver, "/crm", ["program_crm_sync_requested"], kind="crm")
    response = operator_api.post(_url(program.pk), {"entity_type": "enrollment", "entity_ids": [first]}, format="json")
    assert response.status_code == 202
    assert fan_out(100) == 1
    status = _status(operator_api, program)
    assert status["counts"] == {**EMPTY, "queued": 1, "pending": 1}
    latest = status["items"][0]
    assert (latest["entity_id"], latest["status"], latest["attempts"]) == (first, "pending", 0)
    assert latest["event_id"] == response.json()["items"][0]["event_id"]

    receiver.behaviour = lambda r: Reply(500, "crm down") if r.path == "/crm" else Reply()
    dispatch(time_budget=5)
    status = _status(operator_api, program)
    assert status["counts"] == {**EMPTY, "queued": 1, "failed": 1}
    latest = status["items"][0]
    assert (latest["status"], latest["attempts"], latest["last_error"]) == ("failed", 1, "HTTP 500: crm down")
    assert latest["last_attempt_at"] is not None

    receiver.behaviour = lambda r: Reply()
    fake.advance(minutes=5)
    dispatch(time_budget=5)
    status = _status(operator_api, program)
    assert status["counts"] == {**EMPTY, "queued": 1, "sent": 1}
    latest = status["items"][0]
    assert (latest["status"], latest["attempts"], latest["last_error"]) == ("sent", 2, "")

    # Another record exhausts its attempts: dead.
    receiver.behaviour = lambda r: Reply(503, "still down") if r.path == "/crm" else Reply()
    response = operator_api.post(_url(program.pk), {"entity_type": "enrollment", "entity_ids": [second]}, format="json")
    assert response.status_code == 202
    dispatch(time_budget=5)
    assert _status(operator_api, program)["counts"] == {**EMPTY, "queued": 1, "sent": 1, "failed": 1}
    fake.advance(minutes=5)
    dispatch(time_budget=5)
    status = _status(operator_api, program)
    assert status["total"] == 3
    assert status["counts"] == {"queued": 1, "pending": 0, "sent": 1, "failed": 0, "dead": 1}
    latest = status["items"][0]
    assert (latest["entity_id"], latest["status"], latest["attempts"], latest["last_error"]) == (
        second,
        "dead",
        2,
        "HTTP 503: still down",
    )
    assert [i["status"] for i in status["items"]] == ["dead", "sent", "queued"]
    assert [len(receiver.on("/crm"))] == [4]
    assert receiver.unverified() == []

    # Items of another program are not counted.
    assert _status(operator_api, program)["total"] == 3
    limited = operator_api.get(_url(program.pk), {"limit": 1}).json()
    assert (limited["total"], len(limited["items"])) == (3, 1)


def test_the_status_costs_a_constant_number_of_queries(operator_api, make_user, program, receiver):
    add_subscriber(receiver, "/crm", ["program_crm_sync_requested"], kind="crm")

    def queue(n):
        for _ in range(n):
            enrollment = enrollment_create(user=make_user(), program=program, role="mentee")
            response = operator_api.post(
                _url(program.pk), {"entity_type": "enrollment", "entity_ids": [str(enrollment.pk)]}, format="json"
            )
            assert response.status_code == 202
        fan_out(1000)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            body = _status(operator_api, program)
        return len(queries), body

    queue(2)
    count_queries()  # the token's first use is recorded once; measure after it
    small, body = count_queries()
    assert body["total"] == 2
    queue(10)
    large, body = count_queries()
    assert (body["total"], len(body["items"])) == (12, 12)
    assert body["counts"] == {**EMPTY, "pending": 12}
    assert large == small
    assert small <= 8
