"""The generator of sample partner exports (`manage.py make_partner_sample`): a deterministic
buddy history of any size, written as the documented CSV or JSON files.

The shipped sample (`docs/samples/buddy/`) is `SMALL`: 10 people (5 participants, 5 buddies), 6
matches (2 completed, one ended because the participant left, one because of inactivity, 2
active: one of them a completed pair matched again), events attended, check-ins, feedback and
milestones. `bench/import.py` uses the same generator at 100,000 records."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mentorship.partners.records import KINDS

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
HORIZON = datetime(2026, 9, 30, 18, 0, tzinfo=UTC)

# The end of each match in turn ("active": still running).
OUTCOMES = ("completed", "participant_left", "active", "completed", "inactive", "active")
NAMES = (
    "Olena Kovalenko",
    "Jonas Becker",
    "Amir Haddad",
    "Sofia Lindqvist",
    "Daria Melnyk",
    "Lukas Wagner",
    "Yusuf Demir",
    "Anna Nowak",
    "Iryna Shevchenko",
    "Tom Fischer",
)
ZONES = ("Europe/Berlin", "Europe/Kyiv", "Europe/Warsaw", "Europe/London", "")
LANGUAGES = (("uk", "de"), ("de", "en"), ("ar", "de"), ("pl", "en"), ())
EVENT_TITLES = ("Community dinner", "City walk", "Language café", "Board game night", "Museum visit", "Job fair")
MILESTONES = (
    ("first_meeting", "First meeting"),
    ("first_event", "First event attended"),
    ("three_checkins", "Three check-ins"),
    ("one_month", "One month together"),
    ("completed_program", "Completed the programme"),
)
NOTES = ("", "Met for coffee.", "Went to the job centre together.", "Practised German.", "Hard week.")
COMMENTS = ("", "Very helpful.", "We did not find time.", "Great buddy!", "Would do it again.")
ATTENDEES = 4


@dataclass(frozen=True)
class Sizes:
    users: int
    matches: int
    events: int
    checkins: int
    feedback: int
    milestones: int

    @property
    def total(self) -> int:
        return self.users + self.matches + self.events + self.checkins + self.feedback + self.milestones


SMALL = Sizes(users=10, matches=6, events=8, checkins=10, feedback=5, milestones=6)


def scaled(records: int) -> Sizes:
    """About `records` records in the proportions of a real export (users 20%, matches 15%,
    events 25%, check-ins 25%, feedback 8%, milestones the rest)."""
    users = max(4, records * 20 // 100)
    matches = records * 15 // 100
    events = records * 25 // 100
    checkins = records * 25 // 100
    feedback = records * 8 // 100
    milestones = records - users - matches - events - checkins - feedback
    return Sizes(users, matches, events, checkins, feedback, milestones)


def _iso(at: datetime) -> str:
    return at.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def generate(sizes: Sizes = SMALL, *, seed: int = 2026, domain: str = "example.org") -> dict[str, list[dict]]:
    """Rows per kind (values as the JSON files hold them), deterministic for a seed."""
    rng = random.Random(seed)
    small = sizes.users <= len(NAMES)
    users = []
    for i in range(sizes.users):
        name = NAMES[i] if small else f"Person {i + 1}"
        local = name.lower().replace(" ", ".") if small else f"buddy{i + 1:06d}"
        users.append(
            {
                "external_id": f"bu-{i + 1:04d}",
                "email": f"{local}@{domain}",
                "name": name,
                "role": "participant" if i % 2 == 0 else "buddy",
                "joined_at": START + timedelta(days=rng.randrange(0, 60), hours=rng.randrange(0, 9)),
                "timezone": ZONES[i % len(ZONES)],
                "languages": list(LANGUAGES[i % len(LANGUAGES)]),
            }
        )
    participants = [u for u in users if u["role"] == "participant"]
    buddies = [u for u in users if u["role"] == "buddy"]
    free_from = {u["external_id"]: u["joined_at"] for u in users}
    busy: set[str] = set()

    def pick(pool: list[dict], offset: int) -> dict | None:
        for step in range(len(pool)):
            person = pool[(offset + step) % len(pool)]
            if person["external_id"] not in busy:
                return person
        return None

    matches = []
    for m in range(sizes.matches):
        participant, buddy = pick(participants, m), pick(buddies, m * 2)
        if participant is None or buddy is None:
            break
        p_id, b_id = participant["external_id"], buddy["external_id"]
        started = max(free_from[p_id], free_from[b_id]) + timedelta(days=rng.randrange(3, 21), hours=rng.randrange(8))
        outcome = OUTCOMES[m % len(OUTCOMES)]
        ended = started + timedelta(days=rng.randrange(45, 150), hours=rng.randrange(8))
        if started >= HORIZON - timedelta(days=2):
            started = HORIZON - timedelta(days=2)
            outcome = "active"
        if outcome != "active" and ended >= HORIZON:
            ended = HORIZON - timedelta(hours=1)
        row = {
            "match_id": f"bm-{m + 1:04d}",
            "participant_external_id": p_id,
            "buddy_external_id": b_id,
            "matched_at": started,
            "status": "active" if outcome == "active" else "ended",
            "ended_at": None if outcome == "active" else ended,
            "end_reason": "" if outcome == "active" else outcome,
        }
        matches.append(row)
        if outcome == "active":
            busy.update((p_id, b_id))
        else:
            free_from[p_id] = free_from[b_id] = ended

    last_join = max(u["joined_at"] for u in users)
    span_days = max(1, (HORIZON - last_join).days - 2)
    events = []
    for e in range(sizes.events):
        event, seat = divmod(e, ATTENDEES)
        person = users[(event * ATTENDEES + seat) % len(users)]
        day = last_join + timedelta(days=1 + (event * 3) % span_days, hours=(event % 5) + 1)
        events.append(
            {
                "event_id": f"be-{event + 1:04d}",
                "user_external_id": person["external_id"],
                "title": EVENT_TITLES[event % len(EVENT_TITLES)],
                "attended_at": day,
                "duration_minutes": (90, 120, 60)[event % 3],
            }
        )

    checkins = []
    for c in range(sizes.checkins if matches else 0):
        match = matches[c % len(matches)]
        end = match["ended_at"] or HORIZON
        window = (end - match["matched_at"]).total_seconds()
        at = match["matched_at"] + timedelta(seconds=int(window * rng.uniform(0.05, 0.95)))
        checkins.append(
            {
                "checkin_id": f"bc-{c + 1:04d}",
                "match_id": match["match_id"],
                "by_external_id": match["participant_external_id" if c % 2 == 0 else "buddy_external_id"],
                "mood": rng.randint(1, 5),
                "notes": NOTES[c % len(NOTES)],
                "at": at,
            }
        )

    ordered = [m for m in matches if m["status"] == "ended"] + [m for m in matches if m["status"] == "active"]
    feedback = []
    for f in range(min(sizes.feedback, 2 * len(ordered))):
        match = ordered[f // 2]
        base = match["ended_at"] or match["matched_at"] + timedelta(days=20)
        feedback.append(
            {
                "feedback_id": f"bf-{f + 1:04d}",
                "match_id": match["match_id"],
                "author_external_id": match["participant_external_id" if f % 2 == 0 else "buddy_external_id"],
                "rating": rng.randint(2, 5),
                "comment": COMMENTS[f % len(COMMENTS)],
                "submitted_at": min(base + timedelta(days=rng.randrange(1, 6)), HORIZON),
            }
        )

    milestones = []
    for s in range(min(sizes.milestones, len(users) * len(MILESTONES))):
        round_, index = divmod(s, len(users))
        person = users[index]
        key, title = MILESTONES[round_]
        milestones.append(
            {
                "milestone_id": f"bs-{s + 1:04d}",
                "user_external_id": person["external_id"],
                "key": key,
                "title": title,
                "reached_at": min(person["joined_at"] + timedelta(days=20 * (round_ + 1)), HORIZON),
            }
        )
    return {
        "users": users,
        "matches": matches,
        "events": events,
        "checkins": checkins,
        "feedback": feedback,
        "milestones": milestones,
    }


def _cell(value: Any, fmt: str) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if fmt == "csv":
        if value is None:
            return ""
        if isinstance(value, list):
            return ";".join(value)
    return value


def write_export(rows: dict[str, list[dict]], directory: str | Path, *, fmt: str = "csv") -> list[Path]:
    """Write one file per kind in the documented columns; answers the files written."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        data = [{name: _cell(row.get(name), fmt) for name in kind.columns} for row in rows.get(kind.name, [])]
        path = target / f"{kind.name}.{fmt}"
        if fmt == "csv":
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=kind.columns, lineterminator="\n")
                writer.writeheader()
                writer.writerows(data)
        else:
            path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
