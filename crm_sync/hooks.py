"""Registries domain apps fill from `AppConfig.ready()` (this app never imports them):
- inbound event handlers: `register_handler(event_type, fn(envelope))`;
- CRM entity types: `register_crm_entity(entity_type, fetch(program_id, entity_ids))` returning
  `{entity_id: record}` for the ids (all of the program's when `entity_ids` is None);
- the program lookup the CRM sync queue uses to answer 404: `register_program_lookup(fn)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Any]
EntityFetch = Callable[[Any, "list[str] | None"], "dict[str, dict]"]

_handlers: dict[str, Handler] = {}
_entities: dict[str, EntityFetch] = {}
_program_lookup: list[Callable[[Any], bool]] = []


def register_handler(event_type: str, fn: Handler) -> None:
    _handlers[event_type] = fn


def handler_for(event_type: str) -> Handler | None:
    return _handlers.get(event_type)


def register_crm_entity(entity_type: str, fetch: EntityFetch) -> None:
    _entities[entity_type] = fetch


def crm_entity_types() -> list[str]:
    return sorted(_entities)


def crm_entity_fetch(entity_type: str) -> EntityFetch | None:
    return _entities.get(entity_type)


def register_program_lookup(fn: Callable[[Any], bool]) -> None:
    _program_lookup[:] = [fn]


def program_exists(program_id: Any) -> bool:
    return bool(_program_lookup) and _program_lookup[0](program_id)
