"""What other code plugs into scheduling from `AppConfig.ready()`.

Completion rules decide, when a cohort completes, what becomes of each member who is still active:
`fn(member) -> "completed" | "dropped" | None`. Rules are asked in the order they were registered;
the first answer that is not None wins; when every rule answers None (or none is registered) the
member completes. A rule reads what it needs (the program's config, attendance) from the member:
`member.cohort.program` is loaded. Attendance registers one (scheduling.services.attendance).

Pair resolvers let slot matching take existing mentorship pairs: `fn(program, pair_id) -> list of
users | None`; the mentorship app registers one. Without a resolver a pair id is refused by name.
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


# --- Pair resolvers -----------------------------------------------------------------------------
# Slot matching takes "existing mentorship pairs" as participants. Pairs live in a higher layer, so
# that layer registers `fn(program, pair_id) -> list of users | None`: the pair's people, or None
# when the id is not a pair it knows in that program. Resolvers are asked in registration order;
# the first answer that is not None wins.

PairResolver = Callable[..., "list | None"]

_pair_resolvers: list[PairResolver] = []


def register_pair_resolver(fn: PairResolver) -> None:
    if fn not in _pair_resolvers:
        _pair_resolvers.append(fn)


def unregister_pair_resolver(fn: PairResolver) -> None:
    if fn in _pair_resolvers:
        _pair_resolvers.remove(fn)


def pair_resolvers_registered() -> bool:
    return bool(_pair_resolvers)


def resolve_pair(program, pair_id) -> list | None:
    """The users of the pair `pair_id` in `program`, or None when no resolver knows it."""
    for resolver in _pair_resolvers:
        users = resolver(program, pair_id)
        if users is not None:
            return list(users)
    return None
