"""Hooks higher layers fill from `AppConfig.ready()`, so programs never imports them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# fn(campaign, new_max_enrollment) -> an error message, or None when the new maximum is fine.
CampaignCapacityCheck = Callable[[Any, int], "str | None"]
_capacity_checks: list[CampaignCapacityCheck] = []


def register_campaign_capacity_check(fn: CampaignCapacityCheck) -> None:
    if fn not in _capacity_checks:
        _capacity_checks.append(fn)


def campaign_capacity_errors(campaign: Any, new_max: int) -> list[str]:
    return [message for fn in _capacity_checks if (message := fn(campaign, new_max))]


# fn(program, new_template) -> {field path: message} of reasons the program cannot move to it.
ProgramMigrationCheck = Callable[[Any, Any], "dict[str, str]"]
_migration_checks: list[ProgramMigrationCheck] = []


def register_program_migration_check(fn: ProgramMigrationCheck) -> None:
    if fn not in _migration_checks:
        _migration_checks.append(fn)


def program_migration_errors(program: Any, template: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    for fn in _migration_checks:
        errors.update(fn(program, template))
    return errors


# fn(program, changed_fields, actor): runs in the program's transaction after it changed, so rows
# that copy program fields (dual-write) follow.
ProgramChangedHandler = Callable[[Any, "set[str]", Any], None]
_changed_handlers: list[ProgramChangedHandler] = []


def register_program_changed_handler(fn: ProgramChangedHandler) -> None:
    if fn not in _changed_handlers:
        _changed_handlers.append(fn)


def program_changed(program: Any, changed: set[str], actor: Any) -> None:
    for fn in _changed_handlers:
        fn(program, changed, actor)


# fn(program, user) -> {"label": ..., "url": ..., "note": ...} or None: calls to action on the
# program's page (e.g. "Apply"), offered by the apps that handle them.
ProgramAction = Callable[[Any, Any], "dict | None"]
_page_actions: list[ProgramAction] = []


def register_program_page_action(fn: ProgramAction) -> None:
    if fn not in _page_actions:
        _page_actions.append(fn)


def program_page_actions(program: Any, user: Any) -> list[dict]:
    return [action for fn in _page_actions if (action := fn(program, user))]
