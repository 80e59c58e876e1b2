import pytest
from django.db import connection


def test_liveness_answers_without_touching_the_database(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_database_and_broker(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readiness_names_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.HEALTH_BROKER_TIMEOUT_SECONDS = 0.5
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "broker": "failing"}
    assert body["failing"] == ["broker"]
    assert "refused" in body["errors"]["broker"].lower()


@pytest.mark.django_db(transaction=True)
def test_readiness_names_an_unreachable_database(client):
    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = 1  # a real connection attempt that is refused
    try:
        response = client.get("/health/ready")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original_port
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "failing", "broker": "ok"}
    assert body["failing"] == ["database"]
    assert "OperationalError" in body["errors"]["database"]
