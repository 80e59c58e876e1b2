"""Schemathesis fuzzes every operation of the OpenAPI document, signed in as each role that may use
it: no answer is a 5xx, and every answer is one the document describes (status code, content type
and body schema). Path parameters name real objects of the dataset, so the generated bodies and
queries reach the operations' logic instead of stopping at a 404.

Operations under `/api/v1/admin/` are fuzzed as the two roles that may use them (operator and
integrator); the others as every role. What each role may not do is the permission matrix's
concern (`test_permission_matrix.py`).

Every operation is fuzzed, none is excluded: inside the test transaction nothing leaves the
process (side effects are scheduled with `transaction.on_commit`, which never fires here; e-mail
goes to the in-memory backend; conferencing and CRM calls run from workers that are not started).

The suite runs 5 examples per operation and role, derandomized (the same inputs every run). For a
deeper search: `FUZZ_EXAMPLES=50 FUZZ_RANDOM=1 pytest tests/api/test_fuzz.py -n 2`.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_connection")]

# The explicit examples and random generation; the coverage phase (every boundary of every
# field) takes minutes per role and is left to a manual `st run`.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, config=CONFIG)
admin_schema = schema.include(path_regex=r"^/api/v1/admin/")
personal_schema = schema.exclude(path_regex=r"^/api/v1/admin/")
# Operations open to anyone (no `security` in the document): also fuzzed without credentials.
PUBLIC_OPERATIONS = [
    operation["operationId"]
    for operations in schema.raw_schema["paths"].values()
    for method, operation in operations.items()
    if isinstance(operation, dict) and "operationId" in operation and "security" not in operation
]
public_schema = schema.include(operation_id=PUBLIC_OPERATIONS)

# What the issue asks of every answer. Not included: `positive_data_acceptance` and
# `negative_data_rejection`, which judge input by the schema alone (a schema-valid body naming an
# unknown program is rightly a 400 here).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5")),
    deadline=None,
    derandomize="FUZZ_RANDOM" not in os.environ,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _call(case, dataset, role: str | None) -> None:
    for name in case.path_parameters or {}:
        if name in dataset.ids:
            case.path_parameters[name] = dataset.ids[name]
    headers = {"Authorization": f"Token {dataset.tokens[role]}"} if role else {}
    case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.parametrize("role", ["operator", "integrator"])
@admin_schema.parametrize()
@FUZZ
def test_admin_operations(case, dataset, role):
    _call(case, dataset, role)


@pytest.mark.parametrize("role", ["operator", "integrator", "writer", "mentor", "reviewer"])
@personal_schema.parametrize()
@FUZZ
def test_personal_and_public_operations(case, dataset, role):
    _call(case, dataset, role)


@public_schema.parametrize()
@FUZZ
def test_public_operations_anonymously(case, dataset):
    _call(case, dataset, None)
