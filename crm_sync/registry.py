"""The event-type registry: data in the repository (`contracts/event-types-registry.json` and one
JSON Schema per type and version), loaded once and checked by `manage.py check`.

Each type lists its producer, consumers, owning contract and schema versions; a version is
`active` or `deprecated`. A deprecated version stays acceptable until its cutover: the
`active_from` date of the version that replaces it, or `deprecated_at` + `cutover_days`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

DEFAULT_DIR = Path(__file__).resolve().parent / "contracts"
REGISTRY_FILE = "event-types-registry.json"


class RegistryError(Exception):
    """The registry files are inconsistent (a system check reports these)."""


class UnknownEventType(LookupError):
    pass


@dataclass(frozen=True)
class SchemaVersion:
    version: int
    status: str
    payload_schema: str | None
    registered_at: date
    deprecated_at: date | None
    active_from: date | None
    notes: str
    validator: Draft202012Validator | None = field(compare=False, repr=False)


@dataclass(frozen=True)
class EventType:
    name: str
    producer: str
    consumers: tuple[str, ...]
    owning_contract: str | None
    versions: tuple[SchemaVersion, ...]

    def version(self, number: int) -> SchemaVersion | None:
        return next((v for v in self.versions if v.version == number), None)

    @property
    def active(self) -> SchemaVersion:
        """The version producers emit now: the newest active one."""
        return max((v for v in self.versions if v.status == "active"), key=lambda v: v.version)

    def cutover(self, version: SchemaVersion, cutover_days: int) -> date | None:
        """The first day a deprecated version is refused; None for an active version."""
        if version.status != "deprecated":
            return None
        successors = [v for v in self.versions if v.version > version.version and v.active_from]
        if successors:
            return min(successors, key=lambda v: v.version).active_from
        if version.deprecated_at:
            return version.deprecated_at + timedelta(days=cutover_days)
        return version.registered_at


@dataclass(frozen=True)
class Registry:
    directory: Path
    cutover_days: int
    envelope: Draft202012Validator
    types: dict[str, EventType]

    def get(self, name: str) -> EventType:
        try:
            return self.types[name]
        except KeyError:
            raise UnknownEventType(f"'{name}' is not a registered event type.") from None

    def acceptance_error(self, name: str, number: int, today: date) -> str | None:
        """Why an event of this type and version may not be accepted today (None: acceptable)."""
        event_type = self.get(name)
        version = event_type.version(number)
        active = event_type.active
        if version is None:
            return f"{name} has no schema version {number}; the active version is {active.version}."
        cutover = event_type.cutover(version, self.cutover_days)
        if cutover is not None and today >= cutover:
            return f"Version {number} of {name} was retired on {cutover.isoformat()}; send version {active.version}."
        return None


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RegistryError(f"{where}: '{value}' is not an ISO date.") from None


def _load_schema(directory: Path, relative: str, where: str) -> Draft202012Validator:
    path = (directory / relative).resolve()
    if not path.is_file():
        raise RegistryError(f"{where}: schema file {relative} does not exist.")
    try:
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{where}: {relative} is not valid JSON ({exc}).") from None
    except SchemaError as exc:
        raise RegistryError(f"{where}: {relative} is not a valid JSON Schema ({exc.message}).") from None
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def load_registry(directory: Path) -> Registry:
    """Read and check every file of the registry; raises RegistryError naming the problem."""
    index = directory / REGISTRY_FILE
    try:
        data = json.loads(index.read_text())
    except FileNotFoundError:
        raise RegistryError(f"{index} does not exist.") from None
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{index} is not valid JSON ({exc}).") from None
    envelope = _load_schema(directory, data.get("envelope_schema", ""), "envelope_schema")
    types: dict[str, EventType] = {}
    for name, spec in (data.get("event_types") or {}).items():
        versions = []
        for i, entry in enumerate(spec.get("schema_versions") or []):
            where = f"{name} schema_versions[{i}]"
            status = entry.get("status")
            if status not in ("active", "deprecated"):
                raise RegistryError(f"{where}: status must be active or deprecated, not {status!r}.")
            if not isinstance(entry.get("version"), int) or entry["version"] < 1:
                raise RegistryError(f"{where}: version must be a positive integer.")
            relative = entry.get("payload_schema")
            validator = _load_schema(directory, relative, where) if relative else None
            if status == "active" and validator is None:
                raise RegistryError(f"{where}: an active version needs a payload_schema.")
            versions.append(
                SchemaVersion(
                    version=entry["version"],
                    status=status,
                    payload_schema=relative,
                    registered_at=_date(entry.get("registered_at"), where) or date.min,
                    deprecated_at=_date(entry.get("deprecated_at"), where),
                    active_from=_date(entry.get("active_from"), where),
                    notes=entry.get("notes", ""),
                    validator=validator,
                )
            )
        if not any(v.status == "active" for v in versions):
            raise RegistryError(f"{name}: needs an active schema version.")
        if len({v.version for v in versions}) != len(versions):
            raise RegistryError(f"{name}: a schema version is listed twice.")
        types[name] = EventType(
            name=name,
            producer=spec.get("producer", ""),
            consumers=tuple(spec.get("consumers") or ()),
            owning_contract=spec.get("owning_contract"),
            versions=tuple(sorted(versions, key=lambda v: v.version)),
        )
    return Registry(directory=directory, cutover_days=int(data.get("cutover_days", 14)), envelope=envelope, types=types)


@lru_cache(maxsize=4)
def _cached(directory: str) -> Registry:
    return load_registry(Path(directory))


def registry() -> Registry:
    return _cached(str(getattr(settings, "CRM_EVENT_REGISTRY_DIR", None) or DEFAULT_DIR))


def reset() -> None:
    _cached.cache_clear()


def validation_errors(validator: Draft202012Validator, instance: Any, prefix: str) -> dict[str, str]:
    """One message per JSON path (`payload/match_id`), as the API reports them."""
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join([prefix, *map(str, error.absolute_path)]) if prefix else "/".join(map(str, error.absolute_path))
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    errors.setdefault(f"{path}/{name}" if path else name, "This field is required.")
            continue
        errors.setdefault(path or prefix or "body", error.message)
    return errors
