"""An export as the equivalent stream of inbound events: what the partner would have sent, one
event per record, in the order things happened (`buddy.user.joined`, `buddy.match.created` v2,
`buddy.match.ended`, `buddy.event.attended`, `buddy.checkin.completed`, `buddy.feedback.submitted`,
`buddy.milestone.reached`). The stream-versus-batch test sends these to the inbound endpoint; a
partner can use it to see which events their history maps to."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from mentorship.partners.export import read_export
from mentorship.partners.records import END_REASONS, PROVIDER, parse_row

# Same-time events are sent in dependency order.
_ORDER = {
    "buddy.user.joined": 0,
    "buddy.match.created": 1,
    "buddy.event.attended": 2,
    "buddy.checkin.completed": 3,
    "buddy.feedback.submitted": 4,
    "buddy.milestone.reached": 5,
    "buddy.match.ended": 6,
}
_PARTNER_REASON = {ours: theirs for theirs, ours in END_REASONS.items()}


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _event(event_type: str, version: int, subject: tuple[str, str], at: datetime, payload: dict[str, Any]) -> dict:
    key = subject[1]
    return {
        "event_id": f"{event_type}:{key}",
        "event_type": event_type,
        "schema_version": version,
        "occurred_at": _iso(at),
        "producer": PROVIDER,
        "subject": {"type": subject[0], "id": key},
        "actor": f"partner:{PROVIDER}",
        "correlation_id": None,
        "causation_id": None,
        "payload": payload,
    }


def _optional(payload: dict[str, Any], **values: Any) -> dict[str, Any]:
    payload.update({k: v for k, v in values.items() if v not in (None, "")})
    return payload


def events_from_export(path: str | Path, *, program_key: str | None = None) -> list[dict[str, Any]]:
    """Envelopes for every valid row of the export, oldest first (rows that do not parse are
    left out). With `program_key`, the events that name a program carry it."""
    events: list[tuple[datetime, int, dict]] = []

    def add(at: datetime, envelope: dict) -> None:
        events.append((at, _ORDER[envelope["event_type"]], envelope))

    for export_file in read_export(path):
        name = export_file.kind.name
        for _number, raw in export_file.rows:
            rec, errors = parse_row(export_file.kind, raw)
            if errors:
                continue
            if name == "users":
                payload = _optional(
                    {
                        "external_id": rec.external_id,
                        "email": rec.email,
                        "name": rec.name,
                        "role": rec.role,
                        "joined_at": _iso(rec.joined_at),
                    },
                    timezone=rec.timezone,
                    program_key=program_key,
                )
                if rec.languages is not None:
                    payload["languages"] = list(rec.languages)
                add(rec.joined_at, _event("buddy.user.joined", 1, ("user", rec.external_id), rec.joined_at, payload))
            elif name == "matches":
                payload = _optional(
                    {
                        "match_id": rec.match_id,
                        "participant_external_id": rec.participant_external_id,
                        "buddy_external_id": rec.buddy_external_id,
                        "matched_at": _iso(rec.matched_at),
                    },
                    program_key=program_key,
                )
                add(rec.matched_at, _event("buddy.match.created", 2, ("match", rec.match_id), rec.matched_at, payload))
                if rec.ended_at is not None:
                    ended = {
                        "match_id": rec.match_id,
                        "ended_at": _iso(rec.ended_at),
                        "reason": _PARTNER_REASON[rec.end_reason],
                    }
                    add(rec.ended_at, _event("buddy.match.ended", 1, ("match", rec.match_id), rec.ended_at, ended))
            elif name == "events":
                payload = _optional(
                    {
                        "event_id": rec.event_id,
                        "user_external_id": rec.user_external_id,
                        "title": rec.title,
                        "attended_at": _iso(rec.attended_at),
                        "duration_minutes": rec.duration_minutes,
                    },
                    program_key=program_key,
                )
                subject = ("event", f"{rec.event_id}:{rec.user_external_id}")
                add(rec.attended_at, _event("buddy.event.attended", 1, subject, rec.attended_at, payload))
            elif name == "checkins":
                payload = {
                    "checkin_id": rec.checkin_id,
                    "match_id": rec.match_id,
                    "by_external_id": rec.by_external_id,
                    "mood": rec.mood,
                    "notes": rec.notes,
                    "at": _iso(rec.at),
                }
                add(rec.at, _event("buddy.checkin.completed", 1, ("checkin", rec.checkin_id), rec.at, payload))
            elif name == "feedback":
                payload = {
                    "feedback_id": rec.feedback_id,
                    "match_id": rec.match_id,
                    "author_external_id": rec.author_external_id,
                    "rating": rec.rating,
                    "comment": rec.comment,
                    "submitted_at": _iso(rec.submitted_at),
                }
                subject = ("feedback", rec.feedback_id)
                add(rec.submitted_at, _event("buddy.feedback.submitted", 1, subject, rec.submitted_at, payload))
            elif name == "milestones":
                payload = _optional(
                    {
                        "milestone_id": rec.milestone_id,
                        "user_external_id": rec.user_external_id,
                        "key": rec.key,
                        "title": rec.title,
                        "reached_at": _iso(rec.reached_at),
                    },
                    program_key=program_key,
                )
                subject = ("milestone", rec.milestone_id)
                add(rec.reached_at, _event("buddy.milestone.reached", 1, subject, rec.reached_at, payload))
    events.sort(key=lambda e: (e[0], e[1], e[2]["event_id"]))
    return [envelope for _, _, envelope in events]
