"""Write use-cases of accounts: users, roles, organisations, memberships and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import ApiToken, Company, CompanyMembership, ExternalIdentity, User
from core import clock
from core.audit import audit_record
from core.errors import Conflict, ValidationFailed
from core.middleware import valid_timezone
from core.roles import ROLE_NAMES

TOKEN_BYTES = 32


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def roles_ensure_groups() -> list[Group]:
    """Create the role groups (idempotent)."""
    return [Group.objects.get_or_create(name=name)[0] for name in sorted(ROLE_NAMES)]


def roles_grant_app_permissions(app_config: Any) -> int:
    """Give the role groups the admin permissions an app declares in its AppConfig as
    `role_permissions = {"operator": ("view", "add", "change"), ...}`, except the models named in
    `role_permissions_exclude` (idempotent; permissions an administrator granted by hand stay).
    Runs after every migrate."""
    grants: dict[str, tuple[str, ...]] = getattr(app_config, "role_permissions", {})
    if not grants:
        return 0
    groups = {group.name: group for group in roles_ensure_groups()}
    added = 0
    for role, actions in grants.items():
        codenames = Q()
        for action in actions:
            codenames |= Q(codename__startswith=f"{action}_")
        permissions = Permission.objects.filter(codenames, content_type__app_label=app_config.label).exclude(
            content_type__model__in=getattr(app_config, "role_permissions_exclude", ())
        )
        before = groups[role].permissions.count()
        groups[role].permissions.add(*permissions)
        added += groups[role].permissions.count() - before
    return added


def _check_timezone(value: str) -> None:
    if value and valid_timezone(value) is None:
        raise ValidationFailed(errors={"timezone": f"'{value}' is not an IANA time zone."})


@transaction.atomic
def user_create_or_update(
    *,
    email: str,
    password: str | None = None,
    full_name: str | None = None,
    timezone: str | None = None,
    is_staff: bool | None = None,
    actor: Any = None,
) -> tuple[User, bool]:
    """Create the user with this e-mail, or update the given fields of the existing one."""
    email = User.objects.normalize_email(email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationFailed(errors={"email": "Enter a valid e-mail address."})
    if timezone is not None:
        _check_timezone(timezone)
    user = User.objects.select_for_update().filter(email=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(
            email=email,
            password=password,
            full_name=full_name or "",
            timezone=timezone or "",
            is_staff=bool(is_staff),
        )
        audit_record(actor=actor, action="user.created", target=user, changes={"email": email})
        return user, True
    changed: dict[str, Any] = {}
    for field, value in (("full_name", full_name), ("timezone", timezone), ("is_staff", is_staff)):
        if value is not None and getattr(user, field) != value:
            changed[field] = [getattr(user, field), value]
            setattr(user, field, value)
    update_fields = list(changed)
    if password:
        user.set_password(password)
        update_fields.append("password")
        changed["password"] = "changed"
    if update_fields:
        user.save(update_fields=[*update_fields, "updated_at"])
        audit_record(actor=actor, action="user.updated", target=user, changes=changed)
    return user, created


USER_ADMIN_FIELDS = ("email", "full_name", "timezone", "is_staff", "is_active", "is_superuser")


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any], actor: Any = None) -> User:
    """Change a user's profile and access flags (the admin's user page)."""
    unknown = set(data) - set(USER_ADMIN_FIELDS)
    if unknown:
        raise ValidationFailed(errors={f: "This field cannot be changed here." for f in sorted(unknown)})
    if "timezone" in data:
        _check_timezone(data["timezone"])
    fields = dict(data)
    if "email" in fields:
        fields["email"] = User.objects.normalize_email(fields["email"]).strip().lower()
        if User.objects.filter(email=fields["email"]).exclude(pk=user.pk).exists():
            raise Conflict(f"Another user already has the e-mail {fields['email']}.")
    user = User.objects.select_for_update().get(pk=user.pk)
    changes = {f: [getattr(user, f), v] for f, v in fields.items() if getattr(user, f) != v}
    if changes:
        for field in changes:
            setattr(user, field, fields[field])
        user.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="user.updated", target=user, changes=changes)
    return user


@transaction.atomic
def user_set_groups(*, user: User, groups: list[Group], actor: Any = None) -> None:
    """Make the user's groups exactly `groups`; role groups change through the audited grant and
    revoke, other groups directly."""
    wanted = {group.pk: group for group in groups}
    current = {group.pk: group for group in user.groups.all()}
    for pk, group in wanted.items():
        if pk not in current:
            if group.name in ROLE_NAMES:
                user_grant_role(user=user, role=group.name, actor=actor)
            else:
                user.groups.add(group)
    for pk, group in current.items():
        if pk not in wanted:
            if group.name in ROLE_NAMES:
                user_revoke_role(user=user, role=group.name, actor=actor)
            else:
                user.groups.remove(group)


@transaction.atomic
def user_grant_role(*, user: User, role: str, actor: Any = None) -> None:
    if role not in ROLE_NAMES:
        raise ValidationFailed(errors={"role": f"Unknown role '{role}'. Roles: {', '.join(sorted(ROLE_NAMES))}."})
    group, _ = Group.objects.get_or_create(name=role)
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
        audit_record(actor=actor, action="user.role_granted", target=user, changes={"role": role})
    user.__dict__.pop("_role_names_cache", None)


@transaction.atomic
def user_revoke_role(*, user: User, role: str, actor: Any = None) -> None:
    group = Group.objects.filter(name=role).first()
    if group and user.groups.filter(pk=group.pk).exists():
        user.groups.remove(group)
        audit_record(actor=actor, action="user.role_revoked", target=user, changes={"role": role})
    user.__dict__.pop("_role_names_cache", None)


@transaction.atomic
def company_create(
    *,
    key: str,
    name: str,
    description: str = "",
    country: str = "",
    website: str = "",
    actor: Any = None,
) -> Company:
    if Company.objects.filter(key=key).exists():
        raise Conflict(f"A company with the key '{key}' already exists.")
    try:
        with transaction.atomic():
            company = Company.objects.create(
                key=key,
                name=name,
                description=description,
                country=country.upper(),
                website=website,
            )
    except IntegrityError as exc:
        raise Conflict(f"A company with the key '{key}' already exists.") from exc
    audit_record(actor=actor, action="company.created", target=company, changes={"key": key, "name": name})
    return company


@transaction.atomic
def company_update(*, company: Company, data: dict[str, Any], actor: Any = None) -> Company:
    allowed = {"name", "description", "country", "website", "is_active"}
    changes: dict[str, Any] = {}
    for field, value in data.items():
        if field not in allowed:
            continue
        if field == "country":
            value = (value or "").upper()
        if getattr(company, field) != value:
            changes[field] = [getattr(company, field), value]
            setattr(company, field, value)
    if changes:
        company.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="company.updated", target=company, changes=changes)
    return company


@transaction.atomic
def company_add_member(
    *, company: Company, user: User, kind: str = CompanyMembership.Kind.MEMBER, actor: Any = None
) -> CompanyMembership:
    membership, created = CompanyMembership.objects.get_or_create(company=company, user=user, defaults={"kind": kind})
    if created:
        audit_record(
            actor=actor,
            action="company.member_added",
            target=company,
            changes={"user": user.email, "kind": kind},
        )
    return membership


@transaction.atomic
def external_identity_link(
    *, user: User, provider: str, external_id: str, metadata: dict | None = None, actor: Any = None
) -> ExternalIdentity:
    """Link a partner-system id to the user; an id already linked to someone else is a conflict."""
    existing = ExternalIdentity.objects.filter(provider=provider, external_id=external_id).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise Conflict(f"{provider}:{external_id} is already linked to another user.")
        return existing
    identity = ExternalIdentity.objects.create(
        user=user, provider=provider, external_id=external_id, metadata=metadata or {}
    )
    audit_record(
        actor=actor,
        action="user.external_identity_linked",
        target=user,
        changes={"provider": provider, "external_id": external_id},
    )
    return identity


@transaction.atomic
def api_token_issue(*, user: User, name: str = "", actor: Any = None) -> tuple[ApiToken, str]:
    """Issue a token; returns it with the plain key, which is not stored and shown only now."""
    key = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_hash=hash_token_key(key))
    audit_record(actor=actor, action="api_token.issued", target=user, changes={"prefix": token.prefix})
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Any = None, reason: str = "") -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action="api_token.revoked",
            target=token.user,
            changes={"prefix": token.prefix},
            reason=reason,
        )
    return token
