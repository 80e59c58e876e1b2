"""Roles are Django groups with these names; a superuser holds every role."""

from __future__ import annotations

from typing import Any

from django.db import models


class Role(models.TextChoices):
    OPERATOR = "operator", "Program operator"
    REVIEWER = "reviewer", "Reviewer"
    MENTOR = "mentor", "Mentor"
    WRITER = "writer", "Writer / applicant"
    INTEGRATOR = "integrator", "Integrator (API client)"


ROLE_NAMES: frozenset[str] = frozenset(Role.values)


def user_roles(user: Any) -> set[str]:
    """The role names the user holds (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_role_names_cache", None)
    if cached is None:
        if user.is_superuser:
            cached = set(ROLE_NAMES)
        else:
            cached = set(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
        user._role_names_cache = cached
    return set(cached)


def user_has_role(user: Any, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))
