"""The outcomes API: POST one outcome or a list (all or nothing, every bad item named), GET the
program's outcomes (paginated, filtered, constant queries), and the CRM entity type `outcome`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from core.models import AuditEntry
from crm_sync.models import CrmSyncItem, OutboxEvent
from enrollments.crm import crm_outcomes
from enrollments.models import Outcome
from enrollments.services import enrollment_create, outcome_record

pytestmark = pytest.mark.django_db

FROZEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OUTCOME_FIELDS = {
    "id",
    "program_id",
    "enrollment_id",
    "user_id",
    "outcome_type",
    "amount",
    "currency",
    "occurred_on",
    "evidence_url",
    "notes",
    "recorded_by_id",
    "created_at",
}


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: FROZEN)


@pytest.fixture
def ada(make_user, program):
    return enrollment_create(user=make_user(email="ada@example.org"), program=program, role="mentee")


@pytest.fixture
def alan(make_user, program):
    return enrollment_create(user=make_user(email="alan@example.org"), program=program, role="mentee")


def url(program_id) -> str:
    return f"/api/v1/admin/programs/{program_id}/outcomes"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_post_one_outcome(operator_api, operator, program, ada):
    response = operator_api.post(
        url(program.pk),
        {
            "enrollment_id": str(ada.pk),
            "outcome_type": "funded",
            "occurred_on": "2026-02-27",
            "amount": "2500.50",
            "currency": "eur",
            "evidence_url": "https://example.org/grant",
            "notes": "Seed grant",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    outcome = Outcome.objects.get()
    body = response.json()
    assert set(body) == OUTCOME_FIELDS
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "id": str(outcome.pk),
        "program_id": str(program.pk),
        "enrollment_id": str(ada.pk),
        "user_id": str(ada.user_id),
        "outcome_type": "funded",
        "amount": "2500.50",
        "currency": "EUR",
        "occurred_on": "2026-02-27",
        "evidence_url": "https://example.org/grant",
        "notes": "Seed grant",
        "recorded_by_id": str(operator.pk),
    }
    assert AuditEntry.objects.get(target_id=str(outcome.pk)).action == "outcome.recorded"


def test_post_a_list(integrator_api, program, ada, alan):
    response = integrator_api.post(
        url(program.pk),
        [
            {"enrollment_id": str(alan.pk), "outcome_type": "placed", "occurred_on": "2026-02-01"},
            {"enrollment_id": str(ada.pk), "outcome_type": "published", "occurred_on": "2026-03-02", "notes": "Essay"},
        ],
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(r["enrollment_id"], r["outcome_type"], r["notes"]) for r in body] == [
        (str(alan.pk), "placed", ""),
        (str(ada.pk), "published", "Essay"),
    ]
    assert sorted(str(pk) for pk in Outcome.objects.values_list("pk", flat=True)) == sorted(r["id"] for r in body)


def test_a_list_with_bad_items_writes_none_and_names_each(operator_api, program, ada, alan, make_user, buddy_program):
    foreign = enrollment_create(user=make_user(), program=buddy_program, role="buddy")
    response = operator_api.post(
        url(program.pk),
        [
            {"enrollment_id": str(ada.pk), "outcome_type": "completed", "occurred_on": "2026-03-01"},
            {"enrollment_id": str(alan.pk), "outcome_type": "famous", "occurred_on": "2026-03-01"},
            {"enrollment_id": str(foreign.pk), "outcome_type": "placed", "occurred_on": "2026-03-01"},
            {"enrollment_id": str(ada.pk), "outcome_type": "funded", "occurred_on": "2026-03-09", "amount": "5"},
            "not an object",
        ],
        format="json",
    )
    body = _problem(response, 400)
    assert body["detail"] == "4 of 5 outcomes are invalid; none was recorded."
    assert body["errors"] == {
        "items/1/outcome_type": '"famous" is not a valid choice.',
        "items/2/enrollment_id": "This enrollment belongs to another program.",
        "items/3/currency": "An amount needs an ISO 4217 currency.",
        "items/3/occurred_on": "An outcome cannot lie in the future: today is 2026-03-02 in UTC.",
        "items/4": "Invalid data. Expected a dictionary, but got str.",
    }
    assert Outcome.objects.count() == 0
    assert not AuditEntry.objects.filter(action="outcome.recorded").exists()


def test_a_list_with_only_rule_errors_is_reported_by_the_service(operator_api, program, ada):
    response = operator_api.post(
        url(program.pk),
        [
            {"enrollment_id": str(ada.pk), "outcome_type": "completed", "occurred_on": "2026-03-01"},
            {"enrollment_id": str(ada.pk), "outcome_type": "funded", "occurred_on": "2026-03-01", "currency": "USD"},
        ],
        format="json",
    )
    body = _problem(response, 400)
    assert (body["detail"], body["errors"]) == (
        "1 of 2 outcomes are invalid; none was recorded.",
        {"items/1/currency": "A currency goes with an amount."},
    )
    assert Outcome.objects.count() == 0


def test_empty_list_and_bad_bodies_answer_400(operator_api, program, ada):
    assert _problem(operator_api.post(url(program.pk), [], format="json"), 400)["errors"] == {
        "items": "Send at least one outcome."
    }
    body = _problem(operator_api.post(url(program.pk), "just text", format="json"), 400)
    assert body["errors"] == {"non_field_errors": "Invalid data. Expected a dictionary, but got str."}
    body = _problem(operator_api.post(url(program.pk), {"outcome_type": "placed"}, format="json"), 400)
    assert body["errors"] == {"enrollment_id": "This field is required.", "occurred_on": "This field is required."}
    missing = uuid.uuid4()
    body = _problem(
        operator_api.post(
            url(program.pk),
            {"enrollment_id": str(missing), "outcome_type": "placed", "occurred_on": "2026-03-01"},
            format="json",
        ),
        400,
    )
    assert body["errors"] == {"enrollment_id": f"No enrollment with the id {missing}."}
    assert Outcome.objects.count() == 0


def test_unknown_program_answers_404(operator_api, ada):
    missing = uuid.uuid4()
    for response in (
        operator_api.get(url(missing)),
        operator_api.post(
            url(missing),
            {"enrollment_id": str(ada.pk), "outcome_type": "placed", "occurred_on": "2026-03-01"},
            format="json",
        ),
    ):
        assert _problem(response, 404)["detail"] == f"No program with the id {missing}."


def test_writers_are_refused(writer_api, program):
    assert _problem(writer_api.get(url(program.pk)), 403)["type"] == "/problems/permission-denied"


def test_a_list_post_is_idempotent(operator_api, program, ada):
    items = [{"enrollment_id": str(ada.pk), "outcome_type": "placed", "occurred_on": "2026-03-01"}]
    first = operator_api.post(url(program.pk), items, format="json", HTTP_IDEMPOTENCY_KEY="outcomes-1")
    again = operator_api.post(url(program.pk), items, format="json", HTTP_IDEMPOTENCY_KEY="outcomes-1")
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert Outcome.objects.count() == 1


def _record(program, enrollment, outcome_type, occurred_on):
    return outcome_record(program=program, enrollment=enrollment, outcome_type=outcome_type, occurred_on=occurred_on)


def test_list_filters_and_ordering(operator_api, program, ada, alan, make_user, buddy_program):
    placed = _record(program, ada, "placed", date(2026, 2, 1))
    published = _record(program, alan, "published", date(2026, 2, 10))
    other = enrollment_create(user=make_user(), program=buddy_program, role="buddy")
    _record(buddy_program, other, "placed", date(2026, 2, 5))

    body = operator_api.get(url(program.pk)).json()
    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [str(published.pk), str(placed.pk)]  # latest first
    by_type = operator_api.get(url(program.pk), {"outcome_type": "placed"}).json()
    assert [r["id"] for r in by_type["results"]] == [str(placed.pk)]
    by_enrollment = operator_api.get(url(program.pk), {"enrollment": str(alan.pk)}).json()
    assert [r["id"] for r in by_enrollment["results"]] == [str(published.pk)]
    bad = operator_api.get(url(program.pk), {"outcome_type": "famous"})
    assert _problem(bad, 400)["errors"] == {
        "outcome_type": "Select a valid choice. famous is not one of the available choices."
    }


def test_list_costs_a_constant_number_of_queries(operator_api, program, make_user):
    def enrolled_outcome():
        enrollment = enrollment_create(user=make_user(), program=program, role="mentee")
        _record(program, enrollment, "placed", date(2026, 3, 1))

    def queries() -> int:
        operator_api.get(url(program.pk))
        with CaptureQueriesContext(connection) as ctx:
            response = operator_api.get(url(program.pk))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        enrolled_outcome()
    two = queries()
    for _ in range(8):
        enrolled_outcome()
    assert operator_api.get(url(program.pk)).json()["count"] == 10
    assert queries() == two


def test_outcomes_sync_to_the_crm(operator_api, operator, program, ada, alan):
    first = outcome_record(
        program=program,
        enrollment=ada,
        outcome_type="funded",
        occurred_on=date(2026, 2, 27),
        amount=Decimal("100.00"),
        currency="EUR",
    )
    second = _record(program, alan, "placed", date(2026, 3, 1))

    response = operator_api.post(
        f"/api/v1/admin/programs/{program.pk}/crm-sync", {"entity_type": "outcome", "reason": "backfill"}, format="json"
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["entity_type"], body["queued"]) == ("outcome", 2)
    assert sorted(i["entity_id"] for i in body["items"]) == sorted([str(first.pk), str(second.pk)])
    records = crm_outcomes(program.pk, None)
    assert records[str(first.pk)] == {
        "outcome_id": str(first.pk),
        "program_id": str(program.pk),
        "program_key": program.program_key,
        "enrollment_id": str(ada.pk),
        "user_id": str(ada.user_id),
        "outcome_type": "funded",
        "amount": "100.00",
        "currency": "EUR",
        "occurred_on": "2026-02-27",
        "evidence_url": "",
        "notes": "",
        "recorded_at": first.created_at.isoformat(),
    }
    events = OutboxEvent.objects.filter(event_type="program_crm_sync_requested")
    assert {e.subject_id: e.payload["record"] for e in events} == json.loads(json.dumps(records))
    assert {(e.subject_type, e.actor) for e in events} == {("outcome", f"user:{operator.pk}")}
    assert CrmSyncItem.objects.filter(entity_type="outcome").count() == 2

    one = operator_api.post(
        f"/api/v1/admin/programs/{program.pk}/crm-sync",
        {"entity_type": "outcome", "entity_ids": [str(second.pk)]},
        format="json",
    )
    assert (one.status_code, one.json()["queued"]) == (202, 1)
    missing = str(uuid.uuid4())
    refused = operator_api.post(
        f"/api/v1/admin/programs/{program.pk}/crm-sync",
        {"entity_type": "outcome", "entity_ids": [missing]},
        format="json",
    )
    assert _problem(refused, 400)["errors"] == {"entity_ids": f"Not outcomes of this program: {missing}."}
