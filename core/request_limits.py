"""Oversized request bodies answer 413 before anything reads them.

Django enforces `DATA_UPLOAD_MAX_MEMORY_SIZE` only when `request.POST` or `request.body` is read
(and then answers 400); DRF's parsers read the stream directly and do not enforce it at all. This
middleware compares the declared `Content-Length` with the limit first: under `/api/` the answer is
RFC 9457 problem details, elsewhere a short page. Multipart bodies are left to Django, which counts
only their non-file parts against the limit; when Django's own check trips later (a body without a
declared length, too many form fields), `bad_request` turns its 400 into the same 413.

It also refuses API query strings holding a NUL character (`%00`) with a 400: no stored text can
contain one (PostgreSQL refuses it), so such a filter could only fail.
"""

from __future__ import annotations

from urllib.parse import unquote

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from core.api.errors import PROBLEM_CONTENT_TYPE, problem


def body_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def payload_too_large(request, limit: int | None = None) -> HttpResponse:
    limit = body_limit() if limit is None else limit
    detail = (
        f"The request body is larger than the {limit} bytes accepted." if limit else "The request body is too large."
    )
    if request.path.startswith("/api/"):
        body = problem(status_code=413, slug="payload-too-large", title="Payload too large", detail=detail)
        return JsonResponse(body, status=413, content_type=PROBLEM_CONTENT_TYPE)
    page = f"<!doctype html><title>Request too large</title><h1>Request too large</h1><p>{detail}</p>"
    return HttpResponse(page, status=413, content_type="text/html; charset=utf-8")


def declared_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit()
        if (
            limit is not None
            and declared_length(request) > limit
            and not (request.content_type or "").startswith("multipart/")
        ):
            return payload_too_large(request, limit)
        if request.path.startswith("/api/") and "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            body = problem(
                status_code=400,
                slug="malformed-request",
                title="Malformed request",
                detail="Query parameters cannot contain a NUL character.",
            )
            return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
        return self.get_response(request)
