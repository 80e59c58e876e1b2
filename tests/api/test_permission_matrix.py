"""Every `/api/v1/` operation of the OpenAPI document, called by every kind of caller: anonymous,
writer, mentor, reviewer, operator, integrator and another company's user (`other`: a writer who
administers another company). The expected answer comes from the rules below; an operation no rule
covers fails the test, so a new endpoint cannot appear without a decision about who may use it.

Path parameters name the dataset's objects (`tests/api/conftest.py`), which belong to the writer
and to Acme; a parameter the dataset does not hold gets a fixed unknown id, which must answer 404.
Writes send an empty JSON object: the answer shows whether the caller got past authentication,
authorisation and the object lookup, not whether the (empty) input is valid.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
import yaml
from django.db import transaction
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "writer", "mentor", "reviewer", "operator", "integrator", "other")
ADMINS = {"operator", "integrator"}
SIGNED_IN = set(CALLERS) - {"anonymous"}
UNKNOWN_ID = "00000000-0000-4000-8000-00000000dead"

# Outcomes: an exact status, or PASSES: through authentication, authorisation and the lookup
# (not 401, 403 or 404, and never a 5xx); the status then depends on the (empty) input.
PASSES = "passes"


@dataclass(frozen=True)
class Rule:
    """Who may call the operations whose path matches `pattern` (and `methods`, if given)."""

    pattern: str
    allowed: frozenset[str]
    methods: frozenset[str] = frozenset()
    # Callers that are signed in but not allowed: 403 (a role check) or 404 (an object scope);
    # anonymous callers: 401.
    refused: int = 403
    anonymous: int = 401
    # Operations on one person's rows (an id in the path, or `.../me`): when set, the allowed
    # callers who do not own the dataset's row get 404, as for an unknown id.
    owners: frozenset[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        return re.fullmatch(self.pattern, path) is not None and (not self.methods or method in self.methods)


def _rules() -> list[Rule]:
    everyone = frozenset(CALLERS)
    signed_in = frozenset(SIGNED_IN)
    return [
        # The catalog is public.
        Rule(r"/api/v1/programs(/\{program_id\}(/application-form)?)?", everyone, frozenset({"get"})),
        # Partner systems sign each event with their source's secret: an unsigned call answers
        # 401 whoever makes it (API tokens do not count there).
        Rule(r"/api/v1/integrations/events/\{source\}", frozenset(), refused=401),
        # Reviewers read and review the applications assigned to them (the reviewer is assigned
        # the writer's application); a conflict is declared by a reviewer on their assignment.
        Rule(
            r"/api/v1/admin/programs/\{program_id\}/applications/\{application_id\}/conflict",
            frozenset({*ADMINS, "reviewer"}),
            owners=frozenset({"reviewer"}),
        ),
        Rule(
            r"/api/v1/admin/programs/\{program_id\}/applications(/\{application_id\}(/review)?)?",
            frozenset({*ADMINS, "reviewer"}),
        ),
        # The operator surface.
        Rule(r"/api/v1/admin/.*", frozenset(ADMINS)),
        # A company's reports: operators, integrators and that company's administrators (the
        # mentor administers Acme); any other company is hidden (404).
        Rule(r"/api/v1/companies/\{company_id\}/analytics", frozenset({*ADMINS, "mentor"}), refused=404),
        # Anyone signed in, on their own rows.
        Rule(r"/api/v1/me/enrollments/\{enrollment_id\}", signed_in, owners=frozenset({"writer"})),
        # The writer and `other` each applied to the program.
        Rule(r"/api/v1/programs/\{program_id\}/applications/me", signed_in, owners=frozenset({"writer", "other"})),
        # The dataset's pursuit is the writer's.
        Rule(r"/api/v1/coach/pursuits/\{pursuit_id\}(/confirm)?", signed_in, owners=frozenset({"writer"})),
        Rule(r"/api/v1/me(/.*)?", signed_in),
        Rule(r"/api/v1/coach/.*", signed_in),
        Rule(r"/api/v1/programs/\{program_id\}/applications", signed_in, frozenset({"post"})),
        # Nobody is registered for the dataset's session: cancelling answers 404.
        Rule(r"/api/v1/sessions/\{session_id\}/registration", signed_in, frozenset({"delete"}), owners=frozenset()),
        Rule(r"/api/v1/sessions/\{session_id\}/registration", signed_in, frozenset({"post"})),
    ]


RULES = _rules()


def _operations(client) -> list[tuple[str, str]]:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    return sorted(
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


def _rule_for(method: str, path: str) -> Rule | None:
    return next((rule for rule in RULES if rule.matches(method, path)), None)


def _fill(path: str, ids: dict[str, str]) -> tuple[str, set[str]]:
    """The path with its parameters filled in, and the names the dataset could not fill."""
    unknown: set[str] = set()

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in ids:
            return ids[name]
        unknown.add(name)
        return UNKNOWN_ID

    return re.sub(r"\{(\w+)\}", value, path), unknown


def expected(method: str, path: str, caller: str, rule: Rule, unknown: set[str]) -> int | str:
    if caller not in rule.allowed:
        return rule.anonymous if caller == "anonymous" else rule.refused
    if unknown:
        return 404
    if rule.owners is not None and caller not in rule.owners:
        return 404
    # A GET of known objects reads them; a write gets past the checks to its (empty) input.
    return 200 if method == "get" else PASSES


def test_every_operation_has_a_rule(client, dataset):
    missing = [(method, path) for method, path in _operations(client) if _rule_for(method, path) is None]
    assert missing == []


def _call(method: str, path: str, caller: str, dataset) -> int:
    client = APIClient()
    if caller != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {dataset.tokens[caller]}")
    # Each call in its own savepoint: one caller's write does not change what the next one sees.
    with transaction.atomic():
        if method == "get":
            response = client.get(path)
        else:
            response = client.generic(method.upper(), path, "{}", content_type="application/json")
        transaction.set_rollback(True)
    return response.status_code


def _matches(status: int, outcome: int | str) -> bool:
    if outcome == PASSES:
        return status not in (401, 403, 404) and status < 500
    return status == outcome


def test_permission_matrix(client, dataset):
    rows = []
    for method, path in _operations(client):
        rule = _rule_for(method, path)
        assert rule is not None, (method, path)
        url, unknown = _fill(path, dataset.ids)
        for caller in CALLERS:
            want = expected(method, path, caller, rule, unknown)
            got = _call(method, url, caller, dataset)
            if not _matches(got, want):
                rows.append(f"{method.upper()} {path} as {caller}: expected {want}, got {got}")
    assert rows == [], "\n".join(rows)


@pytest.mark.parametrize("caller", ["writer", "mentor", "operator"])
def test_another_users_enrollment_answers_404(dataset, caller):
    path = f"/api/v1/me/enrollments/{dataset.other_ids['enrollment_id']}"
    assert _call("get", path, caller, dataset) == 404


def test_the_writers_own_enrollment_answers_200(dataset):
    assert _call("get", f"/api/v1/me/enrollments/{dataset.ids['enrollment_id']}", "writer", dataset) == 200


def test_an_unknown_inbound_source_answers_404(dataset):
    assert _call("post", "/api/v1/integrations/events/no-such-source", "anonymous", dataset) == 404


def test_unknown_ids_answer_404_to_operators(dataset):
    assert _call("get", f"/api/v1/admin/programs/{uuid.UUID(UNKNOWN_ID)}", "operator", dataset) == 404
