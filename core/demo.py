"""Demo data as a registry: each app registers a seeder from `AppConfig.ready()`, and
`manage.py seed_demo` runs them in order. Every seeder is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSeeder:
    order: int
    name: str
    fn: Callable[[Callable[[str], None]], None]


_SEEDERS: dict[str, DemoSeeder] = {}


def register_demo_seeder(*, order: int, name: str, fn: Callable[[Callable[[str], None]], None]):
    _SEEDERS[name] = DemoSeeder(order=order, name=name, fn=fn)


def demo_seeders() -> list[DemoSeeder]:
    return sorted(_SEEDERS.values(), key=lambda s: (s.order, s.name))
