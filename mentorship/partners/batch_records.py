"""The batch import's planners of the records that hang off people and matches (events
attended, check-ins, feedback, milestones): a mixin of `batch._Run`, one method per kind, each
given one chunk of checked rows inside the chunk's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import clock
from mentorship.enums import ActivityKind, RecordSource
from mentorship.models import Activity, CheckIn, Feedback, Milestone
from mentorship.partners import fast
from mentorship.partners.report import CREATED, UNCHANGED, UPDATED


@dataclass
class Item:
    file: str
    row: int
    record: Any = None
    outcome: str = ""
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.file} row {self.row}"


@dataclass(frozen=True)
class MatchRef:
    id: Any
    program_id: Any
    mentor_id: Any
    mentee_id: Any


def changes(row: Any, values: dict[str, Any]) -> list[str]:
    """Set the values that differ on the row; answer their names."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    return changed


class RecordPlanners:
    """Needs from the run: `program`, `affected`, `load_users`, `user_ref`, `load_matches`,
    `match_ref` and `_fail`."""

    def _pair_problem(self, match: MatchRef, user_id: Any, field_name: str, external_id: str, match_id: str) -> str:
        if user_id not in (match.mentor_id, match.mentee_id):
            return f"{field_name} {external_id} is not one of the pair of match {match_id}."
        return ""

    def _resolve_pair_rows(
        self, items: list[Item], person_field: str, staged: list
    ) -> list[tuple[Item, MatchRef, Any]]:
        self.load_matches({i.record.match_id for i in items})
        self.load_users({getattr(i.record, person_field) for i in items})
        ready = []
        for item in items:
            rec = item.record
            match, problem = self.match_ref(rec.match_id)
            person = None
            if not problem:
                person, problem = self.user_ref(getattr(rec, person_field), person_field)
            if not problem:
                problem = self._pair_problem(match, person, person_field, getattr(rec, person_field), rec.match_id)
            if problem:
                self._fail(item, problem, staged)
                continue
            ready.append((item, match, person))
        return ready

    def _checkins(self, items: list[Item], staged: list) -> None:
        ready = self._resolve_pair_rows(items, "by_external_id", staged)
        existing = {
            c.external_id: c
            for c in CheckIn.objects.filter(
                source=RecordSource.BUDDY, external_id__in=[i.record.checkin_id for i, _, _ in ready]
            )
        }
        created, updated = [], []
        now = clock.now()
        for item, match, person in ready:
            rec = item.record
            row = existing.get(rec.checkin_id)
            if row is not None:
                if (row.match_id, row.by_id) != (match.id, person):
                    self._fail(
                        item,
                        f"checkin_id {rec.checkin_id} belongs to another match or person on the "
                        "platform; they do not change.",
                        staged,
                    )
                    continue
                if changes(row, {"mood": rec.mood, "notes": rec.notes, "at": rec.at}):
                    row.updated_at = now
                    updated.append(row)
                    item.outcome = UPDATED
                else:
                    item.outcome = UNCHANGED
                    continue
            else:
                created.append(
                    CheckIn(
                        match_id=match.id,
                        by_id=person,
                        mood=rec.mood,
                        notes=rec.notes,
                        at=rec.at,
                        source=RecordSource.BUDDY,
                        external_id=rec.checkin_id,
                    )
                )
                item.outcome = CREATED
            self.affected.update((match.mentor_id, match.mentee_id))
        fast.insert(CheckIn, created)
        if updated:
            fast.update(CheckIn, updated, ["mood", "notes", "at", "updated_at"])

    def _feedback(self, items: list[Item], staged: list) -> None:
        ready = self._resolve_pair_rows(items, "author_external_id", staged)
        existing = {
            f.external_id: f
            for f in Feedback.objects.filter(
                source=RecordSource.BUDDY, external_id__in=[i.record.feedback_id for i, _, _ in ready]
            )
        }
        by_pair = {
            (f.match_id, f.author_id): f for f in Feedback.objects.filter(match_id__in={m.id for _, m, _ in ready})
        }
        created, updated = [], {}
        now = clock.now()
        for item, match, person in ready:
            rec = item.record
            row = existing.get(rec.feedback_id)
            if row is not None and (row.match_id, row.author_id) != (match.id, person):
                self._fail(
                    item,
                    f"feedback_id {rec.feedback_id} belongs to another match or person on the "
                    "platform; they do not change.",
                    staged,
                )
                continue
            row = row or by_pair.get((match.id, person))  # giving feedback again updates it
            if row is not None:
                if changes(row, {"rating": rec.rating, "comment": rec.comment, "at": rec.submitted_at}):
                    row.updated_at = now
                    updated[row.pk] = row
                    item.outcome = UPDATED
                    self.affected.add(person)
                else:
                    item.outcome = UNCHANGED
                continue
            row = Feedback(
                match_id=match.id,
                author_id=person,
                rating=rec.rating,
                comment=rec.comment,
                at=rec.submitted_at,
                source=RecordSource.BUDDY,
                external_id=rec.feedback_id,
            )
            by_pair[(match.id, person)] = row
            created.append(row)
            item.outcome = CREATED
            self.affected.add(person)
        fast.insert(Feedback, created)
        if updated:
            fast.update(Feedback, list(updated.values()), ["rating", "comment", "at", "updated_at"])

    def _person_rows(self, items: list[Item], staged: list) -> list[tuple[Item, Any]]:
        self.load_users({i.record.user_external_id for i in items})
        ready = []
        for item in items:
            person, problem = self.user_ref(item.record.user_external_id, "user_external_id")
            if problem:
                self._fail(item, problem, staged)
            else:
                ready.append((item, person))
        return ready

    def _milestones(self, items: list[Item], staged: list) -> None:
        program = self.program
        ready = self._person_rows(items, staged)
        existing = {
            m.external_id: m
            for m in Milestone.objects.filter(
                source=RecordSource.BUDDY, external_id__in=[i.record.milestone_id for i, _ in ready]
            )
        }
        reached = set(
            Milestone.objects.filter(program=program, user_id__in={p for _, p in ready}).values_list("user_id", "key")
        )
        created, updated = [], []
        now = clock.now()
        for item, person in ready:
            rec = item.record
            row = existing.get(rec.milestone_id)
            if row is not None:
                if (row.user_id, row.program_id, row.key) != (person, program.pk, rec.key):
                    self._fail(
                        item,
                        f"milestone_id {rec.milestone_id} is another person's, program's or key's on "
                        "the platform; they do not change.",
                        staged,
                    )
                    continue
                if changes(row, {"title": rec.title, "reached_at": rec.reached_at}):
                    row.updated_at = now
                    updated.append(row)
                    item.outcome = UPDATED
                    self.affected.add(person)
                else:
                    item.outcome = UNCHANGED
                continue
            if (person, rec.key) in reached:  # reached before (on the platform or by another id): kept
                item.outcome = UNCHANGED
                continue
            reached.add((person, rec.key))
            created.append(
                Milestone(
                    user_id=person,
                    program=program,
                    key=rec.key,
                    title=rec.title,
                    reached_at=rec.reached_at,
                    source=RecordSource.BUDDY,
                    external_id=rec.milestone_id,
                )
            )
            item.outcome = CREATED
            self.affected.add(person)
        fast.insert(Milestone, created)
        if updated:
            fast.update(Milestone, updated, ["title", "reached_at", "updated_at"])

    def _events(self, items: list[Item], staged: list) -> None:
        program = self.program
        ready = self._person_rows(items, staged)
        existing = {
            (a.external_id, a.user_id): a
            for a in Activity.objects.filter(
                source=RecordSource.BUDDY,
                external_id__in={i.record.event_id for i, _ in ready},
                user_id__in={p for _, p in ready},
            )
        }
        created, updated = [], []
        now = clock.now()
        for item, person in ready:
            rec = item.record
            row = existing.get((rec.event_id, person))
            if row is not None:
                if (row.program_id, row.kind) != (program.pk, ActivityKind.EVENT):
                    self._fail(item, f"event_id {rec.event_id} is recorded for this person in another program.", staged)
                    continue
                values = {"title": rec.title, "occurred_at": rec.attended_at, "duration_minutes": rec.duration_minutes}
                if changes(row, values):
                    row.updated_at = now
                    updated.append(row)
                    item.outcome = UPDATED
                    self.affected.add(person)
                else:
                    item.outcome = UNCHANGED
                continue
            created.append(
                Activity(
                    program=program,
                    user_id=person,
                    kind=ActivityKind.EVENT,
                    title=rec.title,
                    occurred_at=rec.attended_at,
                    duration_minutes=rec.duration_minutes,
                    source=RecordSource.BUDDY,
                    external_id=rec.event_id,
                )
            )
            item.outcome = CREATED
            self.affected.add(person)
        fast.insert(Activity, created)
        if updated:
            fast.update(Activity, updated, ["title", "occurred_at", "duration_minutes", "updated_at"])
