"""Write use-cases of program templates: create, edit drafts, publish, version, archive, delete."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core import clock
from core.audit import audit_record, json_value
from core.errors import Conflict, ValidationFailed
from core.transitions import TransitionTable, apply_transition
from templates_app.config import config_errors, schema_errors
from templates_app.enums import PlatformRole, TemplateCategory, TemplateStatus
from templates_app.models import ProgramTemplate

TEMPLATE_TRANSITIONS = TransitionTable(
    "template",
    {
        TemplateStatus.DRAFT: {TemplateStatus.ACTIVE, TemplateStatus.ARCHIVED},
        TemplateStatus.ACTIVE: {TemplateStatus.DEPRECATED, TemplateStatus.ARCHIVED},
        TemplateStatus.DEPRECATED: {TemplateStatus.ARCHIVED, TemplateStatus.ACTIVE},
        TemplateStatus.ARCHIVED: set(),
    },
)

EDITABLE_FIELDS = (
    "name",
    "description",
    "category",
    "default_config",
    "config_schema",
    "roles",
    "enrollment_states",
    "supports_matching",
    "activity_types",
    "metrics_tracked",
    "contributes_to_vis",
    "contributes_to_sroi",
    "vis_components",
    "sroi_dimensions",
)
REQUIRED_ENROLLMENT_STATES = {"active", "completed", "dropped"}


def _or_empty(value: Any, empty: Any) -> Any:
    """A missing value counts as empty; any other falsy value (0, false, "") is checked as it is,
    never stored unchecked."""
    return empty if value is None else value


def template_definition_errors(data: dict[str, Any]) -> dict[str, str]:
    """Every rule a template definition must meet, as field path -> message."""
    errors: dict[str, str] = {}
    category = data.get("category")
    if category not in TemplateCategory.values:
        errors["category"] = f"Unknown category '{category}'. Use one of: {', '.join(TemplateCategory.values)}."
    schema = _or_empty(data.get("config_schema"), {})
    schema_problems = schema_errors(schema)
    errors.update(schema_problems)
    default_config = data.get("default_config")
    if not isinstance(default_config, dict):
        errors["default_config"] = "The default config must be a JSON object."
    elif not schema_problems:
        errors.update(config_errors(schema, default_config, prefix="default_config"))

    roles = _or_empty(data.get("roles"), [])
    if not isinstance(roles, list):
        errors["roles"] = "Roles must be a list of {role, platform_role} objects."
    else:
        seen: set[str] = set()
        for index, entry in enumerate(roles):
            if not isinstance(entry, dict) or not isinstance(entry.get("role"), str) or not entry["role"]:
                errors[f"roles/{index}/role"] = "Each role needs a non-empty 'role' name."
                continue
            if entry["role"] in seen:
                errors[f"roles/{index}/role"] = f"The role '{entry['role']}' is listed twice."
            seen.add(entry["role"])
            if entry.get("platform_role") not in PlatformRole.values:
                errors[f"roles/{index}/platform_role"] = f"Use one of: {', '.join(PlatformRole.values)}."
    states = _or_empty(data.get("enrollment_states"), [])
    if (
        not isinstance(states, list)
        or not all(isinstance(state, str) for state in states)
        or not set(states) >= REQUIRED_ENROLLMENT_STATES
    ):
        errors["enrollment_states"] = "Enrollment states must include active, completed and dropped."
    for field in ("activity_types", "metrics_tracked"):
        value = _or_empty(data.get(field), [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            errors[field] = "Must be a list of names."
    for field in ("vis_components", "sroi_dimensions"):
        value = _or_empty(data.get(field), {})
        if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
            errors[field] = "Must map names to true or false."
    return errors


def _definition(template: ProgramTemplate) -> dict[str, Any]:
    return {field: getattr(template, field) for field in EDITABLE_FIELDS}


def _validate(data: dict[str, Any]) -> None:
    errors = template_definition_errors(data)
    if errors:
        raise ValidationFailed("The template definition is invalid.", errors=errors)


@transaction.atomic
def template_create(*, template_key: str, name: str, actor: Any = None, **fields: Any) -> ProgramTemplate:
    """Create version 1 of a new template key, as a draft."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(errors={f: "Unknown field." for f in sorted(unknown)})
    data = {**_definition(ProgramTemplate()), **fields, "name": name}
    _validate(data)
    if ProgramTemplate.objects.filter(template_key=template_key).exists():
        raise Conflict(
            f"A template with the key '{template_key}' already exists; create a new version of it "
            "instead (POST /api/v1/admin/templates/{id}/versions)."
        )
    try:
        with transaction.atomic():
            template = ProgramTemplate.objects.create(template_key=template_key, version=1, **data)
    except IntegrityError as exc:
        raise Conflict(f"A template with the key '{template_key}' already exists.") from exc
    audit_record(
        actor=actor,
        action="template.created",
        target=template,
        changes={"template_key": template_key, "version": 1, "category": data["category"]},
    )
    return template


def _lock(template: ProgramTemplate) -> ProgramTemplate:
    return ProgramTemplate.objects.select_for_update().get(pk=template.pk)


@transaction.atomic
def template_update(*, template: ProgramTemplate, data: dict[str, Any], actor: Any = None) -> ProgramTemplate:
    """Edit a draft. Published versions are immutable: programs rely on them."""
    template = _lock(template)
    if template.status != TemplateStatus.DRAFT:
        raise Conflict(
            f"Only draft templates can be edited; this one is {template.status}. Create a new version instead."
        )
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(errors={f: "This field cannot be changed." for f in sorted(unknown)})
    merged = {**_definition(template), **data}
    _validate(merged)
    changes = {
        field: [json_value(getattr(template, field)), json_value(value)]
        for field, value in data.items()
        if getattr(template, field) != value
    }
    if changes:
        for field in changes:
            setattr(template, field, data[field])
        template.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="template.updated", target=template, changes=changes)
    return template


@transaction.atomic
def template_publish(
    *, template: ProgramTemplate, deprecate_previous: bool = False, actor: Any = None
) -> ProgramTemplate:
    """Make a draft active. With `deprecate_previous`, the other active versions of the same key
    become deprecated and point at this one."""
    # Lock every version of the key in a fixed order, so two publishes cannot interleave.
    versions = list(
        ProgramTemplate.objects.select_for_update().filter(template_key=template.template_key).order_by("version")
    )
    template = next(v for v in versions if v.pk == template.pk)
    if template.status != TemplateStatus.DRAFT:
        raise Conflict("Only draft templates can be published.")
    _validate(_definition(template))
    now = clock.now()
    apply_transition(
        template,
        table=TEMPLATE_TRANSITIONS,
        to=TemplateStatus.ACTIVE,
        actor=actor,
        action="template.published",
        extra={"published_at": now},
    )
    if deprecate_previous:
        for previous in versions:
            if previous.pk != template.pk and previous.status == TemplateStatus.ACTIVE:
                apply_transition(
                    previous,
                    table=TEMPLATE_TRANSITIONS,
                    to=TemplateStatus.DEPRECATED,
                    actor=actor,
                    action="template.deprecated",
                    reason=f"Superseded by version {template.version}.",
                    extra={"deprecated_by": template, "deprecated_at": now},
                )
    return template


@transaction.atomic
def template_new_version(*, template: ProgramTemplate, actor: Any = None) -> ProgramTemplate:
    """Copy the latest version of the template's key into a new draft with version + 1."""
    versions = list(
        ProgramTemplate.objects.select_for_update().filter(template_key=template.template_key).order_by("-version")
    )
    latest = versions[0]
    drafts = [v for v in versions if v.status == TemplateStatus.DRAFT]
    if drafts:
        raise Conflict(
            f"Version {drafts[0].version} of '{template.template_key}' is still a draft; "
            "edit or publish it before starting another version."
        )
    draft = ProgramTemplate.objects.create(
        template_key=latest.template_key,
        version=latest.version + 1,
        status=TemplateStatus.DRAFT,
        **copy.deepcopy(_definition(latest)),
    )
    audit_record(
        actor=actor,
        action="template.version_created",
        target=draft,
        changes={"from_version": latest.version, "version": draft.version},
    )
    return draft


@transaction.atomic
def template_archive(*, template: ProgramTemplate, actor: Any = None, reason: str = "") -> ProgramTemplate:
    template = _lock(template)
    apply_transition(
        template,
        table=TEMPLATE_TRANSITIONS,
        to=TemplateStatus.ARCHIVED,
        actor=actor,
        action="template.archived",
        reason=reason,
    )
    return template


@transaction.atomic
def template_delete(*, template: ProgramTemplate, actor: Any = None) -> None:
    """Delete a template no program uses. Programs reference their template version with a
    protecting foreign key, so the database itself refuses to delete a used one."""
    template = _lock(template)
    audit_record(
        actor=actor,
        action="template.deleted",
        target=template,
        changes={"template_key": template.template_key, "version": template.version},
    )
    try:
        with transaction.atomic():
            template.delete()
    except ProtectedError as exc:
        raise Conflict(
            f"The template '{template.template_key}' v{template.version} is used by "
            f"{len(exc.protected_objects)} program(s) and cannot be deleted; archive it instead."
        ) from exc


@transaction.atomic
def templates_seed_builtin(*, say: Callable[[str], None] = lambda _: None, actor: Any = None) -> int:
    """Create and publish the built-in templates that do not exist yet (idempotent)."""
    from templates_app.builtin import BUILTIN_TEMPLATES, schema_for

    created = 0
    for spec in BUILTIN_TEMPLATES:
        spec = dict(spec)
        key = spec.pop("template_key")
        if ProgramTemplate.objects.filter(template_key=key).exists():
            continue
        extra = spec.pop("schema_extra", [])
        template = template_create(
            template_key=key,
            actor=actor,
            config_schema=schema_for(*extra),
            **spec,
        )
        template_publish(template=template, actor=actor)
        created += 1
        say(f"template {key} v1 published")
    return created
