"""Profiles: create or update one person's side in a program."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import available_timezones

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from core.audit import audit_record, json_value
from core.errors import ValidationFailed
from mentorship.enums import ProfileKind
from mentorship.models import Profile
from mentorship.services.common import max_capacity, require_matching
from programs.models import Program

LIST_FIELDS = ("skills", "languages", "industries", "goals")
MAX_ITEMS = 50
MAX_ITEM_LENGTH = 100
_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def _text_list(value: Any, name: str, errors: dict[str, str]) -> list[str] | None:
    if not isinstance(value, list):
        errors[name] = "Give a list of short texts."
        return None
    if len(value) > MAX_ITEMS:
        errors[name] = f"At most {MAX_ITEMS} entries."
        return None
    cleaned: list[str] = []
    for position, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > MAX_ITEM_LENGTH or "\x00" in item:
            errors[f"{name}/{position}"] = f"Each entry is a text of 1 to {MAX_ITEM_LENGTH} characters."
            return None
        text = item.strip()
        if name == "languages":
            text = text.lower()
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _user_ids(value: Any, user_id: Any, errors: dict[str, str]) -> list[str] | None:
    if not isinstance(value, list) or len(value) > 500:
        errors["avoid_user_ids"] = "Give a list of at most 500 user ids."
        return None
    ids: list[str] = []
    for position, item in enumerate(value):
        try:
            ids.append(str(uuid.UUID(str(item))))
        except ValueError:
            errors[f"avoid_user_ids/{position}"] = "Not a user id."
            return None
    ids = list(dict.fromkeys(ids))
    if str(user_id) in ids:
        errors["avoid_user_ids"] = "A person cannot avoid themselves."
        return None
    known = {str(pk) for pk in get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True)}
    unknown = [i for i in ids if i not in known]
    if unknown:
        errors["avoid_user_ids"] = f"No user with the id {', '.join(unknown[:5])}."
        return None
    return ids


def profile_errors(program: Program, user: Any, kind: str, data: dict[str, Any]) -> tuple[dict[str, str], dict]:
    """Validate the fields given; answer (errors, cleaned values)."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    if kind not in ProfileKind.values:
        errors["kind"] = f"Use one of: {', '.join(ProfileKind.values)}."
    for name in LIST_FIELDS:
        if name in data:
            value = _text_list(data[name], name, errors)
            if value is not None:
                cleaned[name] = value
    if "timezone" in data:
        zone = data["timezone"]
        if not isinstance(zone, str) or zone not in _zones():
            errors["timezone"] = "Give an IANA time zone, e.g. Europe/Kyiv."
        else:
            cleaned["timezone"] = zone
    if "capacity" in data:
        capacity, limit = data["capacity"], max_capacity(program)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= limit:
            errors["capacity"] = f"Give a whole number from 0 to {limit} (this program's most mentees per mentor)."
        elif kind == ProfileKind.MENTEE and capacity != 1:
            errors["capacity"] = "Capacity is a mentor's; leave it out for a mentee."
        else:
            cleaned["capacity"] = capacity
    if "avoid_user_ids" in data:
        ids = _user_ids(data["avoid_user_ids"], user.pk, errors)
        if ids is not None:
            cleaned["avoid_user_ids"] = ids
    if "bio" in data:
        if not isinstance(data["bio"], str) or len(data["bio"]) > 5000 or "\x00" in data["bio"]:
            errors["bio"] = "A text of at most 5,000 characters."
        else:
            cleaned["bio"] = data["bio"]
    if "preferences" in data:
        if not isinstance(data["preferences"], dict):
            errors["preferences"] = "Give an object."
        else:
            cleaned["preferences"] = data["preferences"]
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = "true or false."
        else:
            cleaned["active"] = data["active"]
    return errors, cleaned


def profile_upsert(
    *, program: Program, user: Any, kind: str, data: dict[str, Any], actor: Any = None
) -> tuple[Profile, bool]:
    """Create the person's profile on this side of the program, or update the fields given.
    Answers (profile, created)."""
    require_matching(program)
    errors, cleaned = profile_errors(program, user, kind, data)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user=user, program=program, kind=kind).first()
        created = profile is None
        if created:
            if kind == ProfileKind.MENTOR and "capacity" not in cleaned:
                cleaned["capacity"] = min(max_capacity(program), 1)
            if "timezone" not in cleaned:
                cleaned["timezone"] = getattr(user, "timezone", "") or program.timezone or "UTC"
            try:
                with transaction.atomic():
                    profile = Profile.objects.create(user=user, program=program, kind=kind, **cleaned)
            except IntegrityError:  # created concurrently: update that one instead
                profile = Profile.objects.select_for_update().get(user=user, program=program, kind=kind)
                created = False
            else:
                audit_record(
                    actor=actor,
                    action="mentorship_profile.created",
                    target=profile,
                    changes={k: json_value(v) for k, v in cleaned.items()},
                )
                return profile, True
        changes = {
            name: [json_value(getattr(profile, name)), json_value(value)]
            for name, value in cleaned.items()
            if getattr(profile, name) != value
        }
        if changes:
            for name in changes:
                setattr(profile, name, cleaned[name])
            profile.save(update_fields=[*changes, "updated_at"])
            audit_record(actor=actor, action="mentorship_profile.updated", target=profile, changes=changes)
        return profile, False
