"""The records a partner sends and one parser per kind, shared by the batch import (a row of an
export file: CSV text or JSON values) and the inbound handlers (an event's payload).

Each parser answers `(record, errors)`: a checked, normalised record, or `None` and one message
per field. Times are ISO 8601 with a UTC offset (`2026-03-01T09:00:00Z`); a plain date means
midnight UTC. Nothing may lie in the future."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug

from core import clock
from mentorship.enums import EndReason, ProfileKind
from mentorship.services.profiles import profile_errors

PROVIDER = "buddy"
KINTELL = "kintell"

# Partner roles and the side of a pairing they are (source 001: participants receive, buddies give).
ROLES = {"participant": ProfileKind.MENTEE, "buddy": ProfileKind.MENTOR}

# Partner end reasons and ours.
END_REASONS = {
    "completed": EndReason.COMPLETED,
    "participant_left": EndReason.MENTEE_LEFT,
    "buddy_left": EndReason.MENTOR_LEFT,
    "inactive": EndReason.NO_SHOW,
    "other": EndReason.OTHER,
}
MATCH_STATUSES = ("active", "ended")
SESSION_TYPES = ("mentorship", "language")

MAX_ID = 200
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class UserRecord:
    external_id: str
    email: str
    name: str
    role: str
    joined_at: datetime
    timezone: str | None = None
    languages: tuple[str, ...] | None = None
    program_key: str | None = None

    @property
    def kind(self) -> str:
        return ROLES[self.role]


@dataclass(frozen=True)
class MatchRecord:
    match_id: str
    participant_external_id: str
    buddy_external_id: str
    matched_at: datetime
    status: str = "active"
    ended_at: datetime | None = None
    end_reason: str = ""  # ours (mentorship.enums.EndReason); the partner's is mapped by END_REASONS
    program_key: str | None = None


@dataclass(frozen=True)
class MatchEndRecord:
    match_id: str
    ended_at: datetime
    end_reason: str


@dataclass(frozen=True)
class EventRecord:
    event_id: str
    user_external_id: str
    title: str
    attended_at: datetime
    duration_minutes: int = 0
    program_key: str | None = None


@dataclass(frozen=True)
class CheckInRecord:
    checkin_id: str
    match_id: str
    by_external_id: str
    mood: int
    at: datetime
    notes: str = ""


@dataclass(frozen=True)
class FeedbackRecord:
    feedback_id: str
    match_id: str
    author_external_id: str
    rating: int
    submitted_at: datetime
    comment: str = ""


@dataclass(frozen=True)
class MilestoneRecord:
    milestone_id: str
    user_external_id: str
    key: str
    reached_at: datetime
    title: str = ""
    program_key: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    session_type: str
    volunteer_external_id: str
    participant_external_id: str
    duration_minutes: int
    completed_at: datetime


# --- Field parsing ------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("Give a text.")
    text = str(value).strip()
    if "\x00" in text:
        raise ValueError("The text holds a NUL character.")
    if len(text) > limit:
        raise ValueError(f"At most {limit:,} characters.")
    return text


def parse_id(value: Any) -> str:
    text = _text(value, MAX_ID)
    if not text:
        raise ValueError("This field is required.")
    return text


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from ISO 8601 text; a plain date is midnight UTC."""
    if isinstance(value, datetime):
        at = value
    elif isinstance(value, date):
        at = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif isinstance(value, str):
        text = value.strip()
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{text[:40]}' is not an ISO 8601 date-time (e.g. 2026-03-01T09:00:00Z).") from None
        if at.tzinfo is None:
            if not _DATE_ONLY.match(text):
                raise ValueError("Give the time with its UTC offset (e.g. 2026-03-01T09:00:00Z).")
            at = at.replace(tzinfo=UTC)
    else:
        raise ValueError("Give an ISO 8601 date-time (e.g. 2026-03-01T09:00:00Z).")
    if at.tzinfo is None:
        raise ValueError("Give the time with its UTC offset (e.g. 2026-03-01T09:00:00Z).")
    at = at.astimezone(UTC)
    if at > clock.now():
        raise ValueError("It cannot be in the future.")
    return at


def _int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"A whole number from {low} to {high}.")
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[+-]?\d+", value):
            raise ValueError(f"A whole number from {low} to {high}.")
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"A whole number from {low} to {high}.")
    return value


def _choice(value: Any, choices) -> str:
    text = _text(value, 50).lower()
    if text not in choices:
        raise ValueError(f"Use one of: {', '.join(choices)}.")
    return text


def _email(value: Any) -> str:
    text = _text(value, 254).lower()
    try:
        validate_email(text)
    except ValidationError:
        raise ValueError("Enter a valid e-mail address.") from None
    return text


def _key(value: Any) -> str:
    text = _text(value, 80)
    try:
        validate_slug(text)
    except ValidationError:
        raise ValueError("A short key of letters, digits, '-' and '_' (at most 80).") from None
    return text


def _languages(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[;,|]", value) if part.strip()]
    errors, cleaned = profile_errors(None, None, ProfileKind.MENTEE, {"languages": value})
    if errors:
        raise ValueError(next(iter(errors.values())))
    return tuple(cleaned["languages"])


def _timezone(value: Any) -> str:
    text = _text(value, 64)
    errors, _ = profile_errors(None, None, ProfileKind.MENTEE, {"timezone": text})
    if errors:
        raise ValueError("Give an IANA time zone, e.g. Europe/Kyiv.")
    return text


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[Any], Any]
    required: bool = True
    default: Any = None
    help: str = ""


@dataclass(frozen=True)
class Kind:
    """One record kind of an export: its file name, fields and record class."""

    name: str
    label: str
    fields: tuple[Field, ...]
    build: Callable[..., Any]
    check: Callable[[dict[str, Any], dict[str, str]], None] | None = None
    key_fields: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


def _check_match(values: dict[str, Any], errors: dict[str, str]) -> None:
    if values.get("participant_external_id") and values.get("participant_external_id") == values.get(
        "buddy_external_id"
    ):
        errors["buddy_external_id"] = "A match pairs two different people."
    status = values.get("status")
    if status == "ended":
        for name in ("ended_at", "end_reason"):
            if not values.get(name) and name not in errors:
                errors[name] = "An ended match needs it."
        ended, matched = values.get("ended_at"), values.get("matched_at")
        if ended is not None and matched is not None and ended < matched:
            errors["ended_at"] = "A match ends after it started (matched_at)."
    elif status == "active":
        for name in ("ended_at", "end_reason"):
            if values.get(name):
                errors[name] = "Leave it empty for an active match."
    if values.get("end_reason"):
        values["end_reason"] = END_REASONS[values["end_reason"]]


def _opt_text(limit: int) -> Callable[[Any], str]:
    return lambda value: _text(value, limit)


USERS = Kind(
    "users",
    "user",
    (
        Field("external_id", parse_id, help="The person's id at the partner (unique)."),
        Field("email", _email, help="Links to an existing person with this e-mail, else creates one."),
        Field("name", _opt_text(200), required=False, default="", help="Full name."),
        Field("role", lambda v: _choice(v, tuple(ROLES)), help="participant (mentee side) or buddy (mentor side)."),
        Field("joined_at", parse_time, help="When they joined; the enrollment starts then."),
        Field("timezone", _timezone, required=False, help="IANA time zone, e.g. Europe/Kyiv."),
        Field("languages", _languages, required=False, help="ISO 639-1 codes; in CSV separated by ';'."),
    ),
    UserRecord,
    key_fields=("external_id",),
)

MATCHES = Kind(
    "matches",
    "match",
    (
        Field("match_id", parse_id, help="The match's id at the partner (unique)."),
        Field("participant_external_id", parse_id, help="A user of role participant."),
        Field("buddy_external_id", parse_id, help="A user of role buddy."),
        Field("matched_at", parse_time, help="When the match started."),
        Field("status", lambda v: _choice(v, MATCH_STATUSES), help="active or ended."),
        Field("ended_at", parse_time, required=False, help="Ended matches: when."),
        Field(
            "end_reason",
            lambda v: _choice(v, tuple(END_REASONS)),
            required=False,
            default="",
            help="Ended matches: completed, participant_left, buddy_left, inactive or other.",
        ),
    ),
    MatchRecord,
    check=_check_match,
    key_fields=("match_id",),
)

EVENTS = Kind(
    "events",
    "event attendance",
    (
        Field("event_id", parse_id, help="The event's id at the partner (one row per attendee)."),
        Field("user_external_id", parse_id, help="Who attended."),
        Field("title", _opt_text(200), required=False, default=""),
        Field("attended_at", parse_time),
        Field("duration_minutes", lambda v: _int(v, 0, 1440), required=False, default=0),
    ),
    EventRecord,
    key_fields=("event_id", "user_external_id"),
)

CHECKINS = Kind(
    "checkins",
    "check-in",
    (
        Field("checkin_id", parse_id, help="The check-in's id at the partner (unique)."),
        Field("match_id", parse_id),
        Field("by_external_id", parse_id, help="One of the pair."),
        Field("mood", lambda v: _int(v, 1, 5), help="1 (bad) to 5 (great)."),
        Field("notes", _opt_text(5000), required=False, default=""),
        Field("at", parse_time),
    ),
    CheckInRecord,
    key_fields=("checkin_id",),
)

FEEDBACK = Kind(
    "feedback",
    "feedback",
    (
        Field("feedback_id", parse_id, help="The feedback's id at the partner (unique)."),
        Field("match_id", parse_id),
        Field("author_external_id", parse_id, help="One of the pair; one feedback per person and match."),
        Field("rating", lambda v: _int(v, 1, 5), help="1 to 5."),
        Field("comment", _opt_text(5000), required=False, default=""),
        Field("submitted_at", parse_time),
    ),
    FeedbackRecord,
    key_fields=("feedback_id",),
)

MILESTONES = Kind(
    "milestones",
    "milestone",
    (
        Field("milestone_id", parse_id, help="The milestone's id at the partner (unique)."),
        Field("user_external_id", parse_id),
        Field("key", _key, help="e.g. first_meeting; once per person and program."),
        Field("title", _opt_text(200), required=False, default=""),
        Field("reached_at", parse_time),
    ),
    MilestoneRecord,
    key_fields=("milestone_id",),
)

# In the order they are imported: a row may refer to rows of the kinds before it.
KINDS: tuple[Kind, ...] = (USERS, MATCHES, EVENTS, CHECKINS, FEEDBACK, MILESTONES)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}


def parse_row(kind: Kind, raw: dict[str, Any], **extra: Any) -> tuple[Any, dict[str, str]]:
    """Check one row (CSV text or JSON values) of a kind; answer (record, {}) or (None, errors).
    `extra` adds fields the row does not carry (e.g. an event's `program_key`)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in kind.fields:
        value = raw.get(spec.name)
        if _blank(value):
            if spec.required:
                errors[spec.name] = "This field is required."
            else:
                values[spec.name] = spec.default
            continue
        try:
            values[spec.name] = spec.parse(value)
        except ValueError as exc:
            errors[spec.name] = str(exc)
    if kind.check is not None:
        kind.check(values, errors)
    if errors:
        return None, errors
    return kind.build(**values, **extra), {}


def reason_of(errors: dict[str, str]) -> str:
    return "; ".join(f"{name}: {message}" for name, message in errors.items())


def parse_match_end(payload: dict[str, Any]) -> tuple[MatchEndRecord | None, dict[str, str]]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, parse in (
        ("match_id", parse_id),
        ("ended_at", parse_time),
        ("reason", lambda v: _choice(v, tuple(END_REASONS))),
    ):
        try:
            values[name] = parse(payload.get(name))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        return None, errors
    return MatchEndRecord(values["match_id"], values["ended_at"], END_REASONS[values["reason"]]), {}


def parse_session(payload: dict[str, Any]) -> tuple[SessionRecord | None, dict[str, str]]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, parse in (
        ("session_id", parse_id),
        ("session_type", lambda v: _choice(v, SESSION_TYPES)),
        ("volunteer_external_id", parse_id),
        ("participant_external_id", parse_id),
        ("duration_minutes", lambda v: _int(v, 1, 600)),
        ("completed_at", parse_time),
    ):
        try:
            values[name] = parse(payload.get(name))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        return None, errors
    return SessionRecord(**values), {}
