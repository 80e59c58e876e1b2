"""Conferencing providers: where a session's video meeting lives.

A provider creates a meeting for a session, moves it when the session changes and deletes it when
the session is cancelled. Every provider speaks the same small interface:

- `create(session) -> Meeting` (join link, host link, the provider's meeting id);
- `update(session, external_id) -> Meeting | None` (None: the links did not change);
- `delete(external_id)` (a meeting that is already gone counts as deleted);

and fails with `ProviderError(message, retryable=...)`. Retryable errors (rate limits, time-outs,
the provider's own 5xx) are retried with backoff by the `conferencing_sync` job; the others need an
operator. Providers whose `needs_network` is false (jitsi, manual) settle inside the session's
transaction; the others are synchronised after commit (see `scheduling.services.conferencing`).

Built-in providers: `jitsi` (a unique, unguessable room on a configurable server, no account),
`zoom` (Server-to-Server OAuth) and `manual` (an operator pastes the link). `register_provider`
adds or replaces one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from core.errors import DomainError

if TYPE_CHECKING:
    from scheduling.models import Session


@dataclass(frozen=True)
class Meeting:
    """A meeting at a provider: the link participants join by, the host's link (may be empty) and
    the provider's id for it (empty for providers that keep no state, such as jitsi)."""

    join_url: str
    host_url: str = ""
    external_id: str = ""


class ProviderError(Exception):
    """A provider call failed. `retryable`: trying again later may succeed (rate limit, time-out,
    provider outage); `retry_after`: the provider asked to wait this many seconds; `gone`: the
    meeting no longer exists at the provider."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None, gone: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.gone = gone


class ProviderFailed(DomainError):
    """The provider refused or failed while an operator waited; nothing was changed."""

    status = 502
    slug = "conferencing-provider-error"
    title = "The conferencing provider failed"


class Provider(ABC):
    """The interface every provider implements."""

    key: str = ""
    # False: create/update/delete need no network and may run inside a transaction.
    needs_network: bool = False

    @abstractmethod
    def create(self, session: Session) -> Meeting:
        """Create the session's meeting."""

    @abstractmethod
    def update(self, session: Session, external_id: str) -> Meeting | None:
        """Bring the meeting in line with the session; a new Meeting when its links changed."""

    @abstractmethod
    def delete(self, external_id: str) -> None:
        """Delete the meeting (gone already counts as deleted)."""


_BUILT_IN: dict[str, str] = {
    "jitsi": "scheduling.conferencing.jitsi.JitsiProvider",
    "zoom": "scheduling.conferencing.zoom.ZoomProvider",
    "manual": "scheduling.conferencing.manual.ManualProvider",
}
_registered: dict[str, Callable[[], Provider]] = {}


def register_provider(key: str, factory: Callable[[], Provider]) -> None:
    """Add a provider (or replace a built-in one); `factory` builds it from the current settings."""
    _registered[key] = factory


def get_provider(key: str) -> Provider | None:
    """The provider for a session's `provider` value, built from the current settings; None for
    `none` (no video link)."""
    factory = _registered.get(key)
    if factory is None:
        path = _BUILT_IN.get(key)
        if path is None:
            return None
        factory = import_string(path)
    return factory()


def needs_network(key: str) -> bool:
    provider = get_provider(key)
    return provider is not None and provider.needs_network
