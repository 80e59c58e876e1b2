"""Journey flags (source 001): a user's cross-program flags and counters, always derived from
their enrollments, so they can be recomputed and checked at any time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from enrollments.enums import EnrollmentStatus
from enrollments.models import Enrollment

JOURNEY_ROW_FIELDS = ("program_id", "program_type", "role", "status", "enrolled_at", "completed_at")


def journey_flags_from_rows(rows) -> dict[str, Any]:
    """Flags from one user's enrollment rows (`JOURNEY_ROW_FIELDS`, ordered by enrolled_at)."""
    flags: dict[str, Any] = {}
    active_programs: set[str] = set()
    active_types: set[str] = set()
    counts = {status: 0 for status in EnrollmentStatus.values}
    for program_id, program_type, role, status, enrolled_at, completed_at in rows:
        counts[status] += 1
        key = f"is_{program_type}_{role}"
        flags[key] = flags.get(key, False) or status == EnrollmentStatus.ACTIVE
        flags.setdefault(f"{program_type}_joined_at", enrolled_at.date().isoformat())
        if status == EnrollmentStatus.ACTIVE:
            active_programs.add(str(program_id))
            active_types.add(program_type)
        if completed_at is not None:  # the latest completion of the type, whatever the row order
            completed_key, completed_on = f"{program_type}_completed_at", completed_at.date().isoformat()
            flags[completed_key] = max(flags.get(completed_key, completed_on), completed_on)
    flags["programs_count"] = len(active_programs)
    flags["active_program_types"] = sorted(active_types)
    flags["active_enrollments_count"] = counts[EnrollmentStatus.ACTIVE]
    flags["completed_enrollments_count"] = counts[EnrollmentStatus.COMPLETED]
    flags["dropped_enrollments_count"] = counts[EnrollmentStatus.DROPPED]
    return flags


# Higher layers add flags of their own (mentorship: match counters, check-in due, ...):
# `fn(user_id) -> dict` with the keys it owns, registered from `AppConfig.ready()`, merged in
# registration order. The integrity check compares only the enrollment-derived keys.
_contributors: list[Callable[[Any], dict[str, Any]]] = []
_contributed_keys: set[str] = set()


def register_journey_contributor(fn: Callable[[Any], dict[str, Any]], *, keys: tuple[str, ...]) -> None:
    if fn not in _contributors:
        _contributors.append(fn)
    _contributed_keys.update(keys)


def journey_contributors() -> list[Callable[[Any], dict[str, Any]]]:
    """The registered contributors, in registration order (bulk recomputation walks them too)."""
    return list(_contributors)


def enrollment_flags(flags: dict[str, Any]) -> dict[str, Any]:
    """The flags without the contributed keys (what enrollments alone decide)."""
    return {k: v for k, v in flags.items() if k not in _contributed_keys}


def journey_flags_compute(user_id) -> dict[str, Any]:
    """The user's cross-program flags, derived from their enrollments and the registered
    contributors' records (never incremented)."""
    rows = Enrollment.objects.filter(user_id=user_id).order_by("enrolled_at", "id").values_list(*JOURNEY_ROW_FIELDS)
    flags = journey_flags_from_rows(rows)
    for contributor in _contributors:
        flags.update(contributor(user_id))
    return flags
