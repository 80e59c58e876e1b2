"""The batch import of a partner export (`manage.py import_partner_export`).

1. Every row of every file is checked on its own first (`records.parse_row`), and duplicates within
   a file are found; a bad row is rejected with its file, row and reason.
2. Then kind by kind (users, matches, events, check-ins, feedback, milestones), in chunks: each
   chunk runs in one transaction under the partner lock, reads what exists for its rows in bulk
   (external identities, matches, check-ins, ... by their `(source, external_id)`), decides per
   row (created, updated, unchanged or rejected: a row that refers to a rejected row is rejected
   too, naming it) and writes in bulk (`fast`: COPY and one UPDATE per chunk on PostgreSQL). A
   row's writes are all in its chunk's transaction, so nothing of a row is half-written.
3. Last, the people whose records changed are settled once each (`settle`): enrollment status
   from their matches (source 001) and journey flags.

Importing the same export again finds everything equal: all rows `unchanged`, nothing written.
`dry_run` runs the same inside one transaction that is rolled back, so the report is the same.
Nobody is notified; outbox events (`enrollment.created`, `mentorship.match.created`, ...) are
emitted as for any change, so the CRM follows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from accounts.models import ExternalIdentity
from core import clock
from core.audit import audit_record
from core.errors import ValidationFailed
from enrollments.enums import EnrollmentStatus, SourceSystem
from enrollments.models import Enrollment
from enrollments.services import enrollment_event_payload
from mentorship.enums import LIVE_MATCH_STATUSES, MatchSource, MatchStatus, ProfileKind
from mentorship.models import Match, Profile
from mentorship.partners import fast
from mentorship.partners.batch_records import Item, MatchRef, RecordPlanners, changes
from mentorship.partners.common import (
    JOINED_REASON,
    PARTNER_NAMES,
    actor_for,
    label,
    other_kind,
    partner_lock,
    resolve_program,
)
from mentorship.partners.export import ExportFile, read_export
from mentorship.partners.records import KINDS, PROVIDER, parse_row, reason_of
from mentorship.partners.report import CREATED, REJECTED, UNCHANGED, UPDATED, Counts, ImportReport, Rejection
from mentorship.partners.settle import settle
from mentorship.services.common import max_capacity, side_roles
from mentorship.services.lifecycle import match_created_payload, match_ended_payload
from programs.models import Program

User = get_user_model()

SOURCES = (PROVIDER,)
CHUNK_SIZE = 2000
SETTLE_CHUNK = 2000
STARTED = (MatchStatus.ACTIVE, MatchStatus.ENDED)
CONCURRENT = "It conflicted with a change made at the same time; import the export again."

Progress = Callable[[str, int, int], None]


def _raw_key(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


class _Run(RecordPlanners):
    def __init__(self, *, program: Program, source: str, report: ImportReport, progress: Progress | None) -> None:
        self.program = program
        self.source = source
        self.report = report
        self.progress = progress
        self.actor = actor_for(source)
        self.roles = side_roles(program)
        self.partner = PARTNER_NAMES.get(source, source)
        self.user_ids: dict[str, Any] = {}
        self.rejected_users: dict[str, str] = {}
        self.matches: dict[str, MatchRef] = {}
        self.rejected_matches: dict[str, str] = {}
        self.affected: set[Any] = set()
        self.unusable_password = make_password(None)

    # --- Checking rows ----------------------------------------------------------------------

    def parse(self, export_file: ExportFile) -> list[Item]:
        kind = export_file.kind
        items = [Item(export_file.name, number, reason=reason, outcome=REJECTED) for number, reason in export_file.bad]
        seen: dict[tuple, int] = {}
        natural: dict[tuple, int] = {}
        for number, raw in export_file.rows:
            item = Item(export_file.name, number)
            items.append(item)
            record, errors = parse_row(kind, raw)
            if errors:
                self.reject(item, reason_of(errors), key=_raw_key(raw, kind.key_fields[0]))
                continue
            key = tuple(getattr(record, name) for name in kind.key_fields)
            if key in seen:
                names = " with ".join(f"{n} {v}" for n, v in zip(kind.key_fields, key, strict=True))
                self.reject(item, f"{names} is already in row {seen[key]}.")
                continue
            seen[key] = number
            clash = self._natural_clash(kind.name, record, natural, number)
            if clash:
                self.reject(item, clash, key=key[0])
                continue
            item.record = record
        items.sort(key=lambda i: i.row)
        return items

    def _natural_clash(self, kind: str, record: Any, natural: dict[tuple, int], number: int) -> str | None:
        if kind == "users":
            key, message = ("email", record.email), "The e-mail {v} is also in row {row}."
        elif kind == "matches" and record.status == MatchStatus.ACTIVE:
            key = ("pair", record.participant_external_id, record.buddy_external_id)
            message = "These two people already have an active match in row {row}."
        elif kind == "feedback":
            key = ("feedback", record.match_id, record.author_external_id)
            message = "This person's feedback on this match is already in row {row}."
        elif kind == "milestones":
            key = ("milestone", record.user_external_id, record.key)
            message = "This person's milestone {v} is already in row {row}."
        else:
            return None
        if key in natural:
            return message.format(v=key[-1], row=natural[key])
        natural[key] = number
        return None

    def reject(self, item: Item, reason: str, *, key: str | None = None) -> None:
        item.outcome, item.reason = REJECTED, reason
        if key is not None and item.file.startswith("users."):
            self.rejected_users.setdefault(key, item.where)
        elif key is not None and item.file.startswith("matches."):
            self.rejected_matches.setdefault(key, item.where)

    # --- References -------------------------------------------------------------------------

    def load_users(self, external_ids) -> None:
        missing = {e for e in external_ids if e not in self.user_ids and e not in self.rejected_users}
        if missing:
            self.user_ids.update(
                ExternalIdentity.objects.filter(provider=PROVIDER, external_id__in=missing).values_list(
                    "external_id", "user_id"
                )
            )

    def user_ref(self, external_id: str, field_name: str) -> tuple[Any, str]:
        if external_id in self.user_ids:
            return self.user_ids[external_id], ""
        if external_id in self.rejected_users:
            return None, f"{field_name} {external_id}: that user was rejected ({self.rejected_users[external_id]})."
        return (
            None,
            f"{field_name} {external_id}: no {self.partner} user with this id in the export or on the platform.",
        )

    def load_matches(self, external_ids) -> None:
        missing = {e for e in external_ids if e not in self.matches and e not in self.rejected_matches}
        if missing:
            for ext, *values in Match.objects.filter(source=MatchSource.BUDDY, external_id__in=missing).values_list(
                "external_id", "id", "program_id", "mentor_id", "mentee_id"
            ):
                self.matches[ext] = MatchRef(*values)

    def match_ref(self, external_id: str) -> tuple[MatchRef | None, str]:
        if external_id in self.matches:
            return self.matches[external_id], ""
        if external_id in self.rejected_matches:
            return None, f"match_id {external_id}: that match was rejected ({self.rejected_matches[external_id]})."
        return None, f"match_id {external_id}: no {self.partner} match with this id in the export or on the platform."

    # --- Chunks -----------------------------------------------------------------------------

    def run_kind(self, name: str, items: list[Item], chunk_size: int) -> None:
        handler = getattr(self, f"_{name}")
        todo = [item for item in items if item.record is not None]
        total = len(items)
        done = total - len(todo)
        if self.progress:
            self.progress(name, done, total)
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            staged: list[Callable[[], None]] = []
            affected = set(self.affected)
            try:
                with transaction.atomic():
                    partner_lock(self.source)
                    handler(chunk, staged)
            except IntegrityError:
                self.affected = affected
                for item in chunk:
                    self.reject(item, CONCURRENT, key=self._key(item))
            else:
                for apply in staged:
                    apply()
            done += len(chunk)
            if self.progress:
                self.progress(name, done, total)
        counts = self.report.counts.setdefault(name, Counts())
        for item in items:
            counts.add(item.outcome)
            if item.outcome == REJECTED:
                self.report.rejections.append(Rejection(item.file, item.row, item.reason))

    @staticmethod
    def _key(item: Item) -> str | None:
        record = item.record
        return getattr(record, "external_id", None) or getattr(record, "match_id", None)

    def _fail(self, item: Item, reason: str, staged: list) -> None:
        """Reject a row at the planning stage (kept when the chunk commits)."""
        key = self._key(item) if item.file.split(".")[0] in ("users", "matches") else None
        staged.append(lambda: self.reject(item, reason, key=key))
        item.outcome = REJECTED
        item.reason = reason

    def _users(self, items: list[Item], staged: list) -> None:
        program, roles = self.program, self.roles
        exts = [i.record.external_id for i in items]
        identities = dict(
            ExternalIdentity.objects.filter(provider=PROVIDER, external_id__in=exts).values_list(
                "external_id", "user_id"
            )
        )
        emails = [i.record.email for i in items if i.record.external_id not in identities]
        by_id = {u.pk: u for u in User.objects.filter(pk__in=list(identities.values()))}
        by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
        people = set(by_id) | {u.pk for u in by_email.values()}
        profiles = {(p.user_id, p.kind): p for p in Profile.objects.filter(program=program, user_id__in=people)}
        enrollments = {(e.user_id, e.role): e for e in Enrollment.objects.filter(program=program, user_id__in=people)}
        new_users, new_identities, new_profiles, new_enrollments = [], [], [], []
        changed_users: dict[Any, Any] = {}
        changed_profiles: dict[Any, Any] = {}
        capacity = min(max_capacity(program), 1)
        now = clock.now()
        resolved: dict[str, Any] = {}
        for item in items:
            rec = item.record
            user_id = identities.get(rec.external_id)
            user = by_id.get(user_id) if user_id else by_email.get(rec.email)
            role, other = roles[rec.kind], roles[other_kind(rec.kind)]
            if user is not None:
                clash = enrollments.get((user.pk, other))
                if clash is not None and clash.source_system == SourceSystem.BUDDY:
                    self._fail(
                        item,
                        f"{rec.external_id} joined {program.program_key} as {other}; a change of role is not imported.",
                        staged,
                    )
                    continue
            created = changed = False
            if user is None:
                user = User(
                    email=rec.email,
                    full_name=rec.name,
                    timezone=rec.timezone or "",
                    password=self.unusable_password,
                    date_joined=now,
                )
                new_users.append(user)
                by_email[rec.email] = user
                created = True
            else:
                values = {}
                if rec.name:
                    values["full_name"] = rec.name
                if rec.timezone:
                    values["timezone"] = rec.timezone
                if changes(user, values):
                    user.updated_at = now
                    changed_users[user.pk] = user
                    changed = True
            if user_id is None:
                new_identities.append(
                    ExternalIdentity(user=user, provider=PROVIDER, external_id=rec.external_id, metadata={})
                )
                created = True
            profile = profiles.get((user.pk, rec.kind))
            if profile is None:
                profile = Profile(
                    user=user,
                    program=program,
                    kind=rec.kind,
                    capacity=capacity if rec.kind == ProfileKind.MENTOR else 1,
                    languages=list(rec.languages or []),
                    timezone=rec.timezone or user.timezone or program.timezone or "UTC",
                )
                profiles[(user.pk, rec.kind)] = profile
                new_profiles.append(profile)
                changed = True
            else:
                values = {}
                if rec.languages is not None:
                    values["languages"] = list(rec.languages)
                if rec.timezone:
                    values["timezone"] = rec.timezone
                if changes(profile, values):
                    profile.updated_at = now
                    changed_profiles[profile.pk] = profile
                    changed = True
            if (user.pk, role) not in enrollments:
                enrollment = Enrollment(
                    user=user,
                    program=program,
                    beneficiary_group_id=program.beneficiary_group_id,
                    program_type=program.program_type,
                    role=role,
                    source_system=SourceSystem.BUDDY,
                    status=EnrollmentStatus.ACTIVE,
                    enrolled_at=rec.joined_at,
                    reason=JOINED_REASON.format(partner=self.partner),
                )
                enrollments[(user.pk, role)] = enrollment
                new_enrollments.append(enrollment)
                changed = True
            item.outcome = CREATED if created else UPDATED if changed else UNCHANGED
            resolved[rec.external_id] = user.pk
            if created or changed:
                self.affected.add(user.pk)
        fast.insert(User, new_users)
        if changed_users:
            fast.update(User, list(changed_users.values()), ["full_name", "timezone", "updated_at"])
        fast.insert(ExternalIdentity, new_identities)
        fast.insert(Profile, new_profiles)
        if changed_profiles:
            fast.update(Profile, list(changed_profiles.values()), ["languages", "timezone", "updated_at"])
        fast.insert(Enrollment, new_enrollments)
        fast.emit(
            "enrollment.created",
            [(("enrollment", e.pk), enrollment_event_payload(e)) for e in new_enrollments],
            actor=self.actor,
        )
        staged.append(lambda: self.user_ids.update(resolved))

    def _matches(self, items: list[Item], staged: list) -> None:
        program, roles = self.program, self.roles
        self.load_users({e for i in items for e in (i.record.participant_external_id, i.record.buddy_external_id)})
        people = {
            self.user_ids[e]
            for i in items
            for e in (i.record.participant_external_id, i.record.buddy_external_id)
            if e in self.user_ids
        }
        enrolled = set(
            Enrollment.objects.filter(program=program, user_id__in=people, role__in=list(roles.values())).values_list(
                "user_id", "role"
            )
        )
        existing = {
            m.external_id: m
            for m in Match.objects.filter(source=MatchSource.BUDDY, external_id__in=[i.record.match_id for i in items])
        }
        live = {
            (mentor_id, mentee_id): status
            for mentor_id, mentee_id, status in Match.objects.filter(
                program=program, status__in=LIVE_MATCH_STATUSES, mentee_id__in=people
            ).values_list("mentor_id", "mentee_id", "status")
        }
        created: list[Match] = []
        updated: list[Match] = []
        ended: list[Match] = []
        refs: dict[str, MatchRef] = {}
        now = clock.now()
        for item in items:
            rec = item.record
            participant, problem = self.user_ref(rec.participant_external_id, "participant_external_id")
            buddy, problem_b = (None, "") if problem else self.user_ref(rec.buddy_external_id, "buddy_external_id")
            if problem or problem_b:
                self._fail(item, problem or problem_b, staged)
                continue
            if (participant, roles[ProfileKind.MENTEE]) not in enrolled:
                self._fail(
                    item,
                    f"participant_external_id {rec.participant_external_id} is not a "
                    f"{roles[ProfileKind.MENTEE]} of {program.program_key}.",
                    staged,
                )
                continue
            if (buddy, roles[ProfileKind.MENTOR]) not in enrolled:
                self._fail(
                    item,
                    f"buddy_external_id {rec.buddy_external_id} is not a "
                    f"{roles[ProfileKind.MENTOR]} of {program.program_key}.",
                    staged,
                )
                continue
            match = existing.get(rec.match_id)
            if match is not None:
                problem = self._match_update_problem(match, rec, buddy, participant)
                if problem:
                    self._fail(item, problem, staged)
                    continue
                values: dict[str, Any] = {"started_at": rec.matched_at}
                newly_ended = rec.status == MatchStatus.ENDED and match.status == MatchStatus.ACTIVE
                if rec.status == MatchStatus.ENDED:
                    values.update(status=MatchStatus.ENDED, ended_at=rec.ended_at, end_reason=rec.end_reason)
                if changes(match, values):
                    match.updated_at = now
                    updated.append(match)
                    if newly_ended:
                        ended.append(match)
                    item.outcome = UPDATED
                    self.affected.update((buddy, participant))
                else:
                    item.outcome = UNCHANGED
            else:
                if rec.status == MatchStatus.ACTIVE and (buddy, participant) in live:
                    status = live[(buddy, participant)]
                    self._fail(
                        item,
                        f"{rec.participant_external_id} and {rec.buddy_external_id} already have a "
                        f"{status} match in {program.program_key}.",
                        staged,
                    )
                    continue
                match = Match(
                    program=program,
                    mentor_id=buddy,
                    mentee_id=participant,
                    status=rec.status,
                    source=MatchSource.BUDDY,
                    external_id=rec.match_id,
                    started_at=rec.matched_at,
                    ended_at=rec.ended_at,
                    end_reason=rec.end_reason,
                )
                created.append(match)
                if rec.status == MatchStatus.ENDED:
                    ended.append(match)
                else:
                    live[(buddy, participant)] = MatchStatus.ACTIVE
                item.outcome = CREATED
                self.affected.update((buddy, participant))
            refs[rec.match_id] = MatchRef(match.pk, match.program_id, match.mentor_id, match.mentee_id)
        fast.insert(Match, created)
        if updated:
            fast.update(Match, updated, ["started_at", "status", "ended_at", "end_reason", "updated_at"])
        fast.emit(
            "mentorship.match.created",
            [(("match", m.pk), match_created_payload(m)) for m in created],
            actor=self.actor,
        )
        fast.emit(
            "mentorship.match.ended",
            [(("match", m.pk), match_ended_payload(m)) for m in ended],
            actor=self.actor,
        )
        staged.append(lambda: self.matches.update(refs))

    def _match_update_problem(self, match: Match, rec: Any, buddy: Any, participant: Any) -> str:
        if match.program_id != self.program.pk:
            return f"match_id {rec.match_id} belongs to another program."
        if (match.mentor_id, match.mentee_id) != (buddy, participant):
            return f"match_id {rec.match_id} pairs other people on the platform; a match's people do not change."
        if match.status not in STARTED:
            return f"match_id {rec.match_id} is {match.status} on the platform."
        if rec.status == MatchStatus.ACTIVE and match.status == MatchStatus.ENDED:
            return (
                f"match_id {rec.match_id} ended on the platform on {label(match.ended_at)}; "
                "an ended match does not reopen."
            )
        return ""

    # --- Settling ---------------------------------------------------------------------------

    def settle_all(self) -> int:
        people = sorted(self.affected, key=str)
        if self.progress:
            self.progress("settle", 0, len(people))
        for start in range(0, len(people), SETTLE_CHUNK):
            part = people[start : start + SETTLE_CHUNK]
            with transaction.atomic():
                partner_lock(self.source)
                settle(program=self.program, user_ids=part, bulk=True, actor=self.actor)
            if self.progress:
                self.progress("settle", start + len(part), len(people))
        return len(people)


def partner_import(
    *,
    source: str,
    path: str,
    program_key: str | None = None,
    dry_run: bool = False,
    actor: Any = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> ImportReport:
    """Import a partner export directory into a program; answers the reconciliation report.
    Raises ValidationFailed (unknown source), NotFound/Conflict (no or several programs) and
    `ExportError` (a file that cannot be read as a whole)."""
    if source not in SOURCES:
        raise ValidationFailed(errors={"source": f"Use one of: {', '.join(SOURCES)}."})
    started = time.monotonic()
    program = resolve_program(program_key)
    files = read_export(path)
    report = ImportReport(source=source, program_key=program.program_key, path=str(path), dry_run=dry_run)
    run = _Run(program=program, source=source, report=report, progress=progress)
    parsed = [(export_file.kind.name, run.parse(export_file)) for export_file in files]

    def apply() -> None:
        for name, items in parsed:
            run.run_kind(name, items, chunk_size)
        report.settled = run.settle_all()

    if dry_run:
        with transaction.atomic():
            apply()
            transaction.set_rollback(True)
    else:
        apply()
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="partner_import.applied",
                target=program,
                changes={"source": source, "path": str(path), **report.as_dict()["total"]},
                actor_label=f"import_partner_export ({source})" if actor is None else None,
            )
    report.counts = {kind.name: report.counts[kind.name] for kind in KINDS if kind.name in report.counts}
    report.seconds = time.monotonic() - started
    return report
