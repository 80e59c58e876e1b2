"""Domain errors raised by services; the API renders them as RFC 9457 problem details.

Services never import DRF: they raise these, and `core.api.errors` maps each to a status code,
a problem `type` and `title`. Pages and the admin show the same messages.
"""

from __future__ import annotations


class DomainError(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class ValidationFailed(DomainError):
    """Input breaks a rule; `errors` maps field paths (`a/b/c`) to one message each."""

    status = 400
    slug = "validation-error"
    title = "Invalid input"

    def __init__(self, detail: str = "The request has invalid fields.", *, errors=None) -> None:
        super().__init__(detail, errors=errors)


class Conflict(DomainError):
    """The request is valid but the current state forbids it (illegal transition, full, taken)."""

    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    slug = "permission-denied"
    title = "Permission denied"


class IllegalTransition(Conflict):
    slug = "illegal-transition"
    title = "Illegal status transition"
