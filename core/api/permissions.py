"""Role-based API permissions. Object-level rules (a writer sees only their own) live in the
selectors, which never return another user's objects, so those answer 404."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from core.roles import Role, user_has_role


class HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your account does not hold a role that may use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user_has_role(user, *self.roles))


class IsOperator(HasRole):
    """Program operators and superusers."""

    roles = (Role.OPERATOR,)


class IsOperatorOrIntegrator(HasRole):
    """The `/api/v1/admin/` surface: program operators and integration clients."""

    roles = (Role.OPERATOR, Role.INTEGRATOR)
