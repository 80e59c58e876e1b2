"""`GET /api/v1/me/data`: the signed-in person's own export."""

from __future__ import annotations

import pytest

from core.models import AuditEntry
from tests.privacy.conftest import ANN

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/data"


def test_my_data_is_my_export(people, client_for):
    ann = people["ann"]
    response = client_for(ann).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["person"] == {"id": str(ann.pk), "email": ANN, "full_name": "Ann Example"}
    # 34 rows of the dataset + the token the test client was issued (and its audit entry)
    assert body["summary"]["rows"]["accounts.apitoken"] == 2
    assert body["summary"]["rows"]["core.auditentry"] == 6
    assert body["summary"]["total"] == 36
    assert "Jo's private note" not in response.content.decode()
    entry = AuditEntry.objects.get(action="person.exported")
    assert (entry.actor_id, entry.changes) == (ann.pk, {"via": "api", "rows": 36})


def test_anonymous_gets_a_problem(anon_api):
    response = anon_api.get(URL)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
