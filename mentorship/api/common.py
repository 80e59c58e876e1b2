"""What the mentorship API modules share: tags, path lookups (404), body lookups (400 per field),
an offset-carrying datetime field and people's display names."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from core.errors import NotFound
from mentorship.services.common import program_get
from programs.models import Program

ADMIN_TAGS = ["admin: mentorship"]
ME_TAGS = ["me: mentorship"]
REASON_MAX = 2000


def program_or_404(program_id: Any) -> Program:
    """The program in the path; an unknown one answers 404."""
    return program_get(program_id)


def users_by_id(ids: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Resolve `{field: user_id}` in one query; an unknown id adds `errors[field]`."""
    wanted = {name: pk for name, pk in ids.items() if pk is not None}
    found = get_user_model().objects.in_bulk(list(set(wanted.values())))
    users: dict[str, Any] = {}
    for name, pk in wanted.items():
        user = found.get(pk)
        if user is None:
            errors[name] = f"No user with the id {pk}."
        else:
            users[name] = user
    return users


def person_name(user: Any) -> str:
    return user.get_full_name() if user is not None else ""


def not_found(what: str, pk: Any, where: str = "") -> NotFound:
    return NotFound(f"No {what} with the id {pk}{where}.")
