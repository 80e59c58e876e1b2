import threading
from datetime import timedelta

import pytest
from django.db import connection

from accounts.models import Company
from core.models import IdempotencyRecord

URL = "/api/v1/admin/companies"


def _post(client, body, key):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_response(operator_api):
    first = _post(operator_api, {"key": "acme", "name": "Acme"}, "k-1")
    second = _post(operator_api, {"name": "Acme", "key": "acme"}, "k-1")  # same body, other key order
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Company.objects.filter(key="acme").count() == 1
    record = IdempotencyRecord.objects.get(key="k-1")
    assert record.state == "completed"
    assert record.response_status == 201


@pytest.mark.django_db
def test_same_key_with_another_body_answers_422(operator_api):
    assert _post(operator_api, {"key": "acme", "name": "Acme"}, "k-2").status_code == 201
    response = _post(operator_api, {"key": "globex", "name": "Globex"}, "k-2")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/idempotency-key-reused"
    assert body["detail"] == (
        "The Idempotency-Key 'k-2' was already used for a different request; use a new key for a new request."
    )
    assert not Company.objects.filter(key="globex").exists()


@pytest.mark.django_db
def test_same_key_on_another_endpoint_answers_422(operator_api):
    assert _post(operator_api, {"key": "acme", "name": "Acme"}, "k-3").status_code == 201
    response = operator_api.post(
        "/api/v1/admin/beneficiary-groups", {"key": "acme", "name": "Acme"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert response.status_code == 422


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(operator_api, integrator_api):
    assert _post(operator_api, {"key": "acme", "name": "Acme"}, "shared").status_code == 201
    response = _post(integrator_api, {"key": "globex", "name": "Globex"}, "shared")
    assert response.status_code == 201
    assert response.json()["key"] == "globex"


@pytest.mark.django_db
def test_a_failed_request_releases_its_key(operator_api):
    bad = _post(operator_api, {"key": "acme"}, "k-4")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
    good = _post(operator_api, {"key": "acme", "name": "Acme"}, "k-4")
    assert good.status_code == 201


@pytest.mark.django_db
def test_a_conflict_is_not_replayed(operator_api):
    assert _post(operator_api, {"key": "acme", "name": "Acme"}, "first").status_code == 201
    assert _post(operator_api, {"key": "acme", "name": "Acme 2"}, "second").status_code == 409
    assert not IdempotencyRecord.objects.filter(key="second").exists()


@pytest.mark.django_db
def test_keys_expire_after_24_hours(operator_api, settings):
    assert _post(operator_api, {"key": "acme", "name": "Acme"}, "old").status_code == 201
    record = IdempotencyRecord.objects.get(key="old")
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=record.created_at - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS, minutes=1)
    )
    response = _post(operator_api, {"key": "globex", "name": "Globex"}, "old")
    assert response.status_code == 201
    assert response.json()["key"] == "globex"


@pytest.mark.django_db
def test_overlong_key_answers_400(operator_api):
    response = _post(operator_api, {"key": "acme", "name": "Acme"}, "x" * 256)
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/invalid-idempotency-key"
    assert not Company.objects.exists()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_row(operator, client_for):
    clients = [client_for(operator) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    conflicts: list[str] = []

    def send(client):
        try:
            barrier.wait()
            response = _post(client, {"key": "acme", "name": "Acme"}, "race")
            statuses.append(response.status_code)
            if response.status_code == 409:
                conflicts.append(response.json()["type"])
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Company.objects.filter(key="acme").count() == 1
    assert len(statuses) == 6
    # The first answers 201; the others either replay it (201) or see it still running (409).
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    assert conflicts == ["/problems/idempotency-key-in-progress"] * statuses.count(409)
