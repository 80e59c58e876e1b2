"""RFC 9457 problem details for every API error.

Every error leaves the API as `application/problem+json` with `type`, `title`, `status`, `detail`
and, for invalid input, `errors`: a map from field path (`config_overrides/session/x`) to one message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"

_DRF_TYPES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ValidationError: ("validation-error", "Invalid input"),
    exceptions.ParseError: ("malformed-request", "Malformed request"),
    exceptions.NotAuthenticated: ("not-authenticated", "Authentication required"),
    exceptions.AuthenticationFailed: ("authentication-failed", "Authentication failed"),
    exceptions.PermissionDenied: ("permission-denied", "Permission denied"),
    exceptions.NotFound: ("not-found", "Not found"),
    exceptions.MethodNotAllowed: ("method-not-allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not-acceptable", "Not acceptable"),
    exceptions.UnsupportedMediaType: ("unsupported-media-type", "Unsupported media type"),
    exceptions.Throttled: ("throttled", "Too many requests"),
}


def problem(
    *,
    status_code: int,
    slug: str,
    title: str,
    detail: str,
    errors: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def flatten_errors(data: Any, prefix: str = "") -> dict[str, str]:
    """DRF's nested error structure as a flat map of `a/b/0/c` paths to one message each."""
    flat: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            path = f"{prefix}/{name}" if prefix and name else (prefix or name)
            flat.update(flatten_errors(value, path))
    elif isinstance(data, list):
        if all(not isinstance(item, (dict, list)) for item in data):
            if data:
                flat[prefix or "non_field_errors"] = " ".join(str(item) for item in data)
        else:
            for index, item in enumerate(data):
                if item:
                    flat.update(flatten_errors(item, f"{prefix}/{index}" if prefix else str(index)))
    else:
        flat[prefix or "non_field_errors"] = str(data)
    return flat


def _summary(errors: dict[str, str]) -> str:
    if not errors:
        return "The request has invalid fields."
    first = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first[0]}: {first[1]}{more}"


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: domain errors, DRF errors and Django's 404/403 as problem details.
    Anything else propagates (a bug, answered by the 500 handler, never masked as a 4xx)."""
    if isinstance(exc, DomainError):
        set_rollback()
        return problem_response(
            problem(
                status_code=exc.status,
                slug=exc.slug,
                title=exc.title,
                detail=exc.detail,
                errors=exc.errors or None,
            )
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    set_rollback()
    slug, title = "error", "Error"
    for cls in type(exc).__mro__:
        if cls in _DRF_TYPES:
            slug, title = _DRF_TYPES[cls]
            break
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        body = problem(
            status_code=status.HTTP_400_BAD_REQUEST,
            slug=slug,
            title=title,
            detail=_summary(errors),
            errors=errors,
        )
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = problem(status_code=exc.status_code, slug=slug, title=title, detail=str(detail))
    return problem_response(body, headers)


def _json_problem(status_code: int, slug: str, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status_code=status_code, slug=slug, title=title, detail=detail),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def api_bad_request(request, exception=None) -> JsonResponse:
    return _json_problem(400, "bad-request", "Bad request", "The request could not be understood.")


def api_not_found(request, exception=None) -> JsonResponse:
    return _json_problem(404, "not-found", "Not found", f"No API resource at {request.path}.")


def api_server_error(request) -> JsonResponse:
    return _json_problem(
        500,
        "server-error",
        "Internal server error",
        "The server failed to answer; the error has been logged.",
    )
