"""OpenAPI: the problem-details answers every operation can give, documented once.

Every API error leaves as `application/problem+json` (see `core.api.errors`). Rather than repeat the
same error responses on each view, this drf-spectacular post-processing hook adds a `Problem`
component and, to every operation that does not document them itself, the error statuses its shape
allows: 401 always (missing or invalid credentials), 403 where the operation needs a signed-in role,
404 where the path names an object or the list is paginated (a page past the end), 400 where there
is input to reject (a body, query parameters or a write), 409 for writes (illegal transitions, full
capacity, an idempotent request in flight), 413 and 415 where a body is read, and 422 where the
`Idempotency-Key` header is honoured.

Times of day (`TimeField`) are local wall-clock times without a UTC offset (quiet hours, weekly
availability); drf-spectacular documents them as `format: time`, which RFC 3339 defines with an
offset. They are documented as what they are: `HH:MM[:SS[.ffffff]]`.
"""

from __future__ import annotations

from typing import Any

from core.api.errors import PROBLEM_CONTENT_TYPE
from core.api.idempotency import HEADER as IDEMPOTENCY_HEADER

PROBLEM_COMPONENT = "Problem"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "For invalid input: field path (`a/b/0/c`) to one message.",
        },
    },
    "required": ["type", "title", "status", "detail"],
}

DESCRIPTIONS = {
    "400": "Invalid input or a malformed request (problem details; `errors` names the fields).",
    "401": "Missing or invalid credentials.",
    "403": "The account does not hold a role that may use this operation.",
    "404": "No such object, or not one the caller may see; for a list, a page past its end.",
    "409": "The current state forbids this change.",
    "413": "The request body is larger than the server accepts.",
    "415": "The request body is not in a supported media type.",
    "422": "The Idempotency-Key was already used for a different request.",
}

LOCAL_TIME = {
    "type": "string",
    "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
    "description": "A local time of day, HH:MM[:SS[.ffffff]], without a UTC offset.",
}

_WRITE_METHODS = {"post", "put", "patch", "delete"}
_METHODS = _WRITE_METHODS | {"get", "head", "options", "trace"}


def _problem_response(code: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}}},
    }


def error_statuses(*, method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation of this shape can answer."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    codes = ["401"]
    if operation.get("security"):
        codes.append("403")
    if "{" in path or any(p.get("in") == "query" and p.get("name") == "page" for p in parameters):
        codes.append("404")
    if has_body or any(p.get("in") == "query" for p in parameters) or method in _WRITE_METHODS:
        codes.append("400")
    if method in _WRITE_METHODS:
        codes.append("409")
    if has_body:
        codes += ["413", "415"]
    if any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
        codes.append("422")
    return sorted(codes)


def _local_times(node: Any) -> None:
    """Replace `{"type": "string", "format": "time"}` wherever it appears, in place."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node["pattern"] = LOCAL_TIME["pattern"]
            node.setdefault("description", LOCAL_TIME["description"])
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def add_problem_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    _local_times(result.get("components", {}))
    _local_times(result.get("paths", {}))
    result.setdefault("components", {}).setdefault("schemas", {})[PROBLEM_COMPONENT] = PROBLEM_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in error_statuses(method=method, path=path, operation=operation):
                responses.setdefault(code, _problem_response(code))
    return result
