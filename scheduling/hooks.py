"""What higher layers (attendance, later) plug into scheduling from `AppConfig.ready()`.

Completion rules decide, when a cohort completes, what becomes of each member who is still active:
`fn(member) -> "completed" | "dropped" | None`. Rules are asked in the order they were registered;
the first answer that is not None wins; when every rule answers None (or none is registered) the
member completes. A rule reads what it needs (the program's config, attendance) from the member:
`member.cohort.program` is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scheduling.enums import CohortMemberStatus

if TYPE_CHECKING:
    from scheduling.models import CohortMember

CompletionRule = Callable[["CohortMember"], "str | None"]

_completion_rules: list[CompletionRule] = []

OUTCOMES = (CohortMemberStatus.COMPLETED, CohortMemberStatus.DROPPED)


def register_completion_rule(fn: CompletionRule) -> None:
    if fn not in _completion_rules:
        _completion_rules.append(fn)


def unregister_completion_rule(fn: CompletionRule) -> None:
    if fn in _completion_rules:
        _completion_rules.remove(fn)


def member_completion_outcome(member: CohortMember) -> str:
    """`completed` or `dropped` for a member still active when the cohort completes."""
    for rule in _completion_rules:
        outcome = rule(member)
        if outcome is None:
            continue
        if outcome not in OUTCOMES:
            raise ValueError(f"Completion rule {rule!r} answered {outcome!r}; expected 'completed', 'dropped' or None.")
        return str(outcome)
    return CohortMemberStatus.COMPLETED
