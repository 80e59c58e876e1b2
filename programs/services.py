"""Write use-cases of the offer: beneficiary groups, programs (instances of a template version)
and campaigns (a company's deployment of a program)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import Company
from core.audit import audit_record, json_value
from core.errors import Conflict, ValidationFailed
from core.middleware import valid_timezone
from core.money import currency_error
from core.transitions import TransitionTable, apply_transition
from programs.enums import CampaignStatus, ProgramStatus
from programs.hooks import campaign_capacity_errors, program_changed, program_migration_errors
from programs.models import BeneficiaryGroup, Campaign, Program
from templates_app.config import config_errors, deep_merge
from templates_app.enums import TemplateStatus
from templates_app.models import ProgramTemplate

PROGRAM_TRANSITIONS = TransitionTable(
    "program",
    {
        ProgramStatus.DRAFT: {ProgramStatus.ACTIVE, ProgramStatus.ARCHIVED},
        ProgramStatus.ACTIVE: {ProgramStatus.PAUSED, ProgramStatus.CLOSED},
        ProgramStatus.PAUSED: {ProgramStatus.ACTIVE, ProgramStatus.CLOSED},
        ProgramStatus.CLOSED: {ProgramStatus.ACTIVE, ProgramStatus.ARCHIVED},
        ProgramStatus.ARCHIVED: set(),
    },
)

CAMPAIGN_TRANSITIONS = TransitionTable(
    "campaign",
    {
        CampaignStatus.DRAFT: {CampaignStatus.ACTIVE, CampaignStatus.CANCELLED},
        CampaignStatus.ACTIVE: {CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED},
        CampaignStatus.PAUSED: {CampaignStatus.ACTIVE, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED},
        CampaignStatus.COMPLETED: set(),
        CampaignStatus.CANCELLED: set(),
    },
)

PROGRAM_KEY_MAX = 100


# --- Shared checks ------------------------------------------------------------------------------


def _normalise_tags(tags: Any, field: str, errors: dict[str, str]) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors[field] = "Tags must be a list of strings."
        return []
    cleaned: list[str] = []
    for tag in tags:
        slug = slugify(tag)
        if not slug:
            errors[field] = f"'{tag}' is not a usable tag."
        elif slug not in cleaned:
            cleaned.append(slug)
    return cleaned


def _sdg_goals(goals: Any, errors: dict[str, str]) -> list[int]:
    if goals is None:
        return []
    if (
        not isinstance(goals, list)
        or not all(isinstance(g, int) and not isinstance(g, bool) for g in goals)
        or not all(1 <= g <= 17 for g in goals)
    ):
        errors["sdg_goals"] = "SDG goals are integers from 1 to 17."
        return []
    return sorted(set(goals))


def _check_timezone(value: Any, errors: dict[str, str]) -> None:
    if not isinstance(value, str) or valid_timezone(value) is None:
        errors["timezone"] = f"'{value}' is not an IANA time zone (e.g. Europe/Berlin)."


def _check_window(opens_at: datetime | None, closes_at: datetime | None, errors: dict[str, str]) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = "The application window must close after it opens."


def _check_overrides(value: Any, field: str, errors: dict[str, str]) -> None:
    if not isinstance(value, dict):
        errors[field] = "Overrides must be a JSON object."


def _raise(errors: dict[str, str], detail: str = "The request has invalid fields.") -> None:
    if errors:
        raise ValidationFailed(detail, errors=errors)


def _changes(obj: Any, data: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        field: [json_value(getattr(obj, field)), json_value(value)]
        for field, value in data.items()
        if getattr(obj, field) != value
    }


# --- Beneficiary groups -------------------------------------------------------------------------


def _group_fields(data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out = dict(data)
    if "tags" in data:
        out["tags"] = _normalise_tags(data["tags"], "tags", errors)
    if "countries" in data:
        countries = data["countries"] or []
        if not all(isinstance(c, str) and len(c) == 2 and c.isalpha() for c in countries):
            errors["countries"] = "Countries are ISO 3166-1 alpha-2 codes (e.g. DE)."
        out["countries"] = sorted({c.upper() for c in countries if isinstance(c, str)})
    if "languages" in data:
        languages = data["languages"] or []
        if not all(isinstance(c, str) and 2 <= len(c) <= 3 and c.isalpha() for c in languages):
            errors["languages"] = "Languages are ISO 639 codes (e.g. uk, ar)."
        out["languages"] = sorted({c.lower() for c in languages if isinstance(c, str)})
    return out


@transaction.atomic
def beneficiary_group_create(*, key: str, name: str, actor: Any = None, **data: Any) -> BeneficiaryGroup:
    errors: dict[str, str] = {}
    fields = _group_fields(data, errors)
    _raise(errors)
    if BeneficiaryGroup.objects.filter(key=key).exists():
        raise Conflict(f"A beneficiary group with the key '{key}' already exists.")
    try:
        with transaction.atomic():
            group = BeneficiaryGroup.objects.create(key=key, name=name, **fields)
    except IntegrityError as exc:
        raise Conflict(f"A beneficiary group with the key '{key}' already exists.") from exc
    audit_record(actor=actor, action="beneficiary_group.created", target=group, changes={"key": key})
    return group


@transaction.atomic
def beneficiary_group_update(*, group: BeneficiaryGroup, data: dict[str, Any], actor: Any = None) -> BeneficiaryGroup:
    errors: dict[str, str] = {}
    fields = _group_fields(data, errors)
    _raise(errors)
    group = BeneficiaryGroup.objects.select_for_update().get(pk=group.pk)
    changes = _changes(group, fields)
    if changes:
        for field in changes:
            setattr(group, field, fields[field])
        group.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="beneficiary_group.updated", target=group, changes=changes)
    return group


# --- Programs -----------------------------------------------------------------------------------


def program_config_errors(template: ProgramTemplate, overrides: Any) -> dict[str, str]:
    """The merged config (template defaults + overrides) checked against the template schema,
    one message per path under `config_overrides/`."""
    if not isinstance(overrides, dict):
        return {"config_overrides": "Overrides must be a JSON object."}
    merged = deep_merge(template.default_config, overrides)
    return config_errors(template.config_schema, merged, prefix="config_overrides")


def _unique_program_key(name: str, wanted: str | None) -> str:
    if wanted:
        if Program.objects.filter(program_key=wanted).exists():
            raise Conflict(f"A program with the key '{wanted}' already exists.")
        return wanted
    base = (slugify(name) or "program")[: PROGRAM_KEY_MAX - 6].strip("-")
    taken = set(Program.objects.filter(program_key__startswith=base).values_list("program_key", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check_template_usable(template: ProgramTemplate) -> None:
    if template.status == TemplateStatus.ACTIVE:
        return
    if template.status == TemplateStatus.DEPRECATED and template.deprecated_by_id:
        newer = template.deprecated_by
        raise Conflict(
            f"Template '{template.template_key}' v{template.version} is deprecated; use v{newer.version} ({newer.id})."
        )
    raise Conflict(
        f"Template '{template.template_key}' v{template.version} is {template.status}; programs "
        "are created from active templates only."
    )


@transaction.atomic
def program_create(
    *,
    template: ProgramTemplate,
    name: str,
    beneficiary_group: BeneficiaryGroup,
    config_overrides: dict | None = None,
    tags: list[str] | None = None,
    sdg_goals: list[int] | None = None,
    timezone: str = "UTC",
    description: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    program_key: str | None = None,
    actor: Any = None,
) -> Program:
    """Instantiate a program from an active template version; the merged config must validate
    against the template's schema. The program stays on this template version until migrated."""
    overrides = {} if config_overrides is None else config_overrides
    errors: dict[str, str] = {}
    clean_tags = _normalise_tags(tags, "tags", errors)
    goals = _sdg_goals(sdg_goals, errors)
    _check_timezone(timezone, errors)
    _check_window(opens_at, closes_at, errors)
    if not name or not name.strip():
        errors["name"] = "A program needs a name."
    errors.update(program_config_errors(template, overrides))
    config_failed = any(path.startswith("config_overrides") for path in errors)
    _raise(errors, "Config validation failed." if config_failed else "The request has invalid fields.")
    _check_template_usable(template)
    for _ in range(5):
        key = _unique_program_key(name, program_key)
        try:
            with transaction.atomic():
                program = Program.objects.create(
                    program_key=key,
                    name=name.strip(),
                    description=description,
                    template=template,
                    program_type=template.category,
                    beneficiary_group=beneficiary_group,
                    config_overrides=overrides,
                    config=deep_merge(template.default_config, overrides),
                    tags=clean_tags,
                    sdg_goals=goals,
                    timezone=timezone,
                    opens_at=opens_at,
                    closes_at=closes_at,
                )
            break
        except IntegrityError:
            if program_key:
                raise Conflict(f"A program with the key '{program_key}' already exists.") from None
    else:  # pragma: no cover - five concurrent creations of the same name
        raise Conflict("Could not allocate a unique program key; try again.")
    audit_record(
        actor=actor,
        action="program.created",
        target=program,
        changes={
            "program_key": program.program_key,
            "template": f"{template.template_key} v{template.version}",
            "config_overrides": overrides,
        },
    )
    return program


def _campaign_config_errors(campaigns: list[Campaign], program_config: dict, schema: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    for campaign in campaigns:
        merged = deep_merge(program_config, campaign.config_overrides)
        for path, message in config_errors(schema, merged, prefix="config_overrides").items():
            errors[f"campaigns/{campaign.id}/{path}"] = message
    return errors


def _refresh_campaign_configs(program: Program) -> None:
    for campaign in program.campaigns.select_for_update().order_by("id"):
        merged = deep_merge(program.config, campaign.config_overrides)
        if merged != campaign.config:
            campaign.config = merged
            campaign.save(update_fields=["config", "updated_at"])


PROGRAM_EDITABLE = (
    "name",
    "description",
    "beneficiary_group",
    "config_overrides",
    "tags",
    "sdg_goals",
    "timezone",
    "opens_at",
    "closes_at",
)


@transaction.atomic
def program_update(*, program: Program, data: dict[str, Any], actor: Any = None) -> Program:
    """Change a program's settings; a new config must validate for the program and for each of
    its campaigns (their configs are re-derived)."""
    program = Program.objects.select_for_update().select_related("template").get(pk=program.pk)
    unknown = set(data) - set(PROGRAM_EDITABLE)
    if unknown:
        raise ValidationFailed(errors={f: "This field cannot be changed here." for f in sorted(unknown)})
    errors: dict[str, str] = {}
    fields = dict(data)
    if "tags" in data:
        fields["tags"] = _normalise_tags(data["tags"], "tags", errors)
    if "sdg_goals" in data:
        fields["sdg_goals"] = _sdg_goals(data["sdg_goals"], errors)
    if "timezone" in data:
        _check_timezone(data["timezone"], errors)
    if "name" in data and not (data["name"] or "").strip():
        errors["name"] = "A program needs a name."
    _check_window(fields.get("opens_at", program.opens_at), fields.get("closes_at", program.closes_at), errors)
    config_changed = "config_overrides" in data and data["config_overrides"] != program.config_overrides
    if config_changed:
        config_problem = program_config_errors(program.template, data["config_overrides"])
        errors.update(config_problem)
        if not config_problem:
            new_config = deep_merge(program.template.default_config, data["config_overrides"])
            errors.update(
                _campaign_config_errors(list(program.campaigns.all()), new_config, program.template.config_schema)
            )
    config_failed = any(path.startswith(("config_overrides", "campaigns/")) for path in errors)
    _raise(errors, "Config validation failed." if config_failed else "The request has invalid fields.")
    changes = _changes(program, fields)
    if not changes:
        return program
    for field in changes:
        setattr(program, field, fields[field])
    update_fields = list(changes)
    if config_changed:
        program.config = deep_merge(program.template.default_config, program.config_overrides)
        update_fields.append("config")
    program.save(update_fields=[*update_fields, "updated_at"])
    if config_changed:
        _refresh_campaign_configs(program)
    audit_record(actor=actor, action="program.updated", target=program, changes=changes)
    program_changed(program, set(changes), actor)
    return program


@transaction.atomic
def program_set_status(*, program: Program, status: str, actor: Any = None, reason: str = "") -> Program:
    """Move a program through its lifecycle (draft -> active <-> paused -> closed -> archived)."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    if status not in ProgramStatus.values:
        raise ValidationFailed(
            errors={"status": f"Unknown status '{status}'. Use one of: {', '.join(ProgramStatus.values)}."}
        )
    if program.status == status:
        return program
    apply_transition(
        program,
        table=PROGRAM_TRANSITIONS,
        to=status,
        actor=actor,
        action="program.status_changed",
        reason=reason,
    )
    return program


@transaction.atomic
def program_migrate_template(
    *, program: Program, template: ProgramTemplate, actor: Any = None, reason: str = ""
) -> Program:
    """Opt-in move of a program (and its campaigns) to a newer active version of its template
    key; the merged configs are validated against the new schema first."""
    program = Program.objects.select_for_update().select_related("template").get(pk=program.pk)
    current = program.template
    if template.template_key != current.template_key:
        raise ValidationFailed(
            errors={"template_id": f"Programs migrate within their template key '{current.template_key}'."}
        )
    if template.category != current.category:
        # The program type is written through to every enrollment (dual-write); it never changes.
        raise ValidationFailed(
            errors={
                "template_id": f"Template v{template.version} is a {template.category} template; the program "
                f"stays a {current.category} program."
            }
        )
    if template.version <= current.version:
        raise Conflict(f"The program is on v{current.version}; it can only move to a newer version.")
    if template.status != TemplateStatus.ACTIVE:
        raise Conflict(f"Template v{template.version} is {template.status}; publish it first.")
    errors = program_config_errors(template, program.config_overrides)
    if not errors:
        new_config = deep_merge(template.default_config, program.config_overrides)
        errors = _campaign_config_errors(list(program.campaigns.all()), new_config, template.config_schema)
    _raise(errors, f"The program's config does not validate against v{template.version}.")
    _raise(program_migration_errors(program, template), f"The program cannot move to v{template.version}.")
    program.template = template
    program.program_type = template.category
    program.config = deep_merge(template.default_config, program.config_overrides)
    program.save(update_fields=["template", "program_type", "config", "updated_at"])
    _refresh_campaign_configs(program)
    audit_record(
        actor=actor,
        action="program.template_migrated",
        target=program,
        changes={
            "template_version": [current.version, template.version],
            "template": [str(current.id), str(template.id)],
        },
        reason=reason,
    )
    return program


# --- Campaigns ----------------------------------------------------------------------------------


def _campaign_checks(
    *,
    program: Program,
    target: int,
    maximum: int,
    budget_amount: Decimal | None,
    budget_currency: str,
    overrides: Any,
    starts_on: date | None,
    ends_on: date | None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if maximum < 1:
        errors["max_enrollment"] = "The maximum enrollment must be at least 1."
    elif maximum < target:
        errors["max_enrollment"] = f"The maximum ({maximum}) must be at least the target ({target})."
    if budget_amount is not None:
        if budget_amount < 0:
            errors["budget_amount"] = "A budget cannot be negative."
        if not budget_currency:
            errors["budget_currency"] = "A budget needs an ISO 4217 currency."
    if budget_currency and (message := currency_error(budget_currency)):
        errors["budget_currency"] = message
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "A campaign cannot end before it starts."
    if not isinstance(overrides, dict):
        errors["config_overrides"] = "Overrides must be a JSON object."
    else:
        merged = deep_merge(program.config, overrides)
        errors.update(config_errors(program.template.config_schema, merged, prefix="config_overrides"))
    return errors


@transaction.atomic
def campaign_create(
    *,
    program: Program,
    company: Company,
    name: str,
    max_enrollment: int,
    target_enrollment: int = 0,
    budget_amount: Decimal | None = None,
    budget_currency: str = "",
    config_overrides: dict | None = None,
    status: str = CampaignStatus.ACTIVE,
    starts_on: date | None = None,
    ends_on: date | None = None,
    actor: Any = None,
) -> Campaign:
    """Deploy a program for a company; its config is the program's, deep-merged with the
    campaign overrides and validated against the template schema."""
    program = Program.objects.select_related("template").get(pk=program.pk)
    overrides = {} if config_overrides is None else config_overrides
    budget_currency = (budget_currency or "").upper()
    errors = _campaign_checks(
        program=program,
        target=target_enrollment,
        maximum=max_enrollment,
        budget_amount=budget_amount,
        budget_currency=budget_currency,
        overrides=overrides,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    if status not in (CampaignStatus.DRAFT, CampaignStatus.ACTIVE):
        errors["status"] = "A new campaign starts as draft or active."
    _raise(errors)
    if program.status in ("closed", "archived"):
        raise Conflict(f"The program '{program.name}' is {program.status}; it takes no new campaigns.")
    campaign = Campaign.objects.create(
        program=program,
        company=company,
        name=name,
        target_enrollment=target_enrollment,
        max_enrollment=max_enrollment,
        budget_amount=budget_amount,
        budget_currency=budget_currency,
        config_overrides=overrides,
        config=deep_merge(program.config, overrides),
        status=status,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    audit_record(
        actor=actor,
        action="campaign.created",
        target=campaign,
        changes={
            "program": program.program_key,
            "company": company.key,
            "max_enrollment": max_enrollment,
            "target_enrollment": target_enrollment,
        },
    )
    return campaign


CAMPAIGN_EDITABLE = (
    "name",
    "target_enrollment",
    "max_enrollment",
    "budget_amount",
    "budget_currency",
    "config_overrides",
    "starts_on",
    "ends_on",
    "status",
)


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: dict[str, Any], actor: Any = None, reason: str = "") -> Campaign:
    """Change a campaign's settings and/or move its status. The campaign row is locked, so a
    lowered maximum is checked against the enrollments it already holds."""
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("program__template").get(pk=campaign.pk)
    unknown = set(data) - set(CAMPAIGN_EDITABLE)
    if unknown:
        raise ValidationFailed(errors={f: "This field cannot be changed." for f in sorted(unknown)})
    fields = {k: v for k, v in data.items() if k != "status"}
    if "budget_currency" in fields:
        fields["budget_currency"] = (fields["budget_currency"] or "").upper()
    merged = {f: getattr(campaign, f) for f in CAMPAIGN_EDITABLE if f != "status"} | fields
    errors = _campaign_checks(
        program=campaign.program,
        target=merged["target_enrollment"],
        maximum=merged["max_enrollment"],
        budget_amount=merged["budget_amount"],
        budget_currency=merged["budget_currency"],
        overrides=merged["config_overrides"],
        starts_on=merged["starts_on"],
        ends_on=merged["ends_on"],
    )
    _raise(errors)
    if "max_enrollment" in fields and fields["max_enrollment"] < campaign.max_enrollment:
        problems = campaign_capacity_errors(campaign, fields["max_enrollment"])
        if problems:
            raise Conflict(" ".join(problems))
    changes = _changes(campaign, fields)
    if changes:
        for field in changes:
            setattr(campaign, field, fields[field])
        update_fields = list(changes)
        if "config_overrides" in changes:
            campaign.config = deep_merge(campaign.program.config, campaign.config_overrides)
            update_fields.append("config")
        campaign.save(update_fields=[*update_fields, "updated_at"])
        audit_record(actor=actor, action="campaign.updated", target=campaign, changes=changes, reason=reason)
    new_status = data.get("status")
    if new_status is not None and new_status != campaign.status:
        if new_status not in CampaignStatus.values:
            raise ValidationFailed(
                errors={"status": f"Unknown status '{new_status}'. Use one of: {', '.join(CampaignStatus.values)}."}
            )
        apply_transition(
            campaign,
            table=CAMPAIGN_TRANSITIONS,
            to=new_status,
            actor=actor,
            action="campaign.status_changed",
            reason=reason,
        )
    return campaign
