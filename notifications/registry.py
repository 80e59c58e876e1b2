"""The kinds of notification the product sends, registered by the apps that send them.

An app calls `register_kind` from its `AppConfig.ready()`. A kind's templates are Django templates,
either files found by the template loaders (`notifications/<kind>/subject.txt`, `body.txt`,
`body.html`, `dashboard.txt`; an app keeps them in its own `templates/notifications/<kind>/`) or
inline strings. Text parts render without HTML escaping; the HTML part escapes.

Asking for a kind nobody registered is a programming error (LookupError), not a user's mistake.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.template import Context, Engine, Template, TemplateDoesNotExist

from notifications.enums import Channel

KIND_KEY = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")
GROUP_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")

# Inline key -> template file name, and which parts each channel needs.
PART_FILES = {"subject": "subject.txt", "text": "body.txt", "html": "body.html", "dashboard": "dashboard.txt"}
REQUIRED_PARTS = {Channel.EMAIL: ("subject", "text"), Channel.DASHBOARD: ("dashboard",)}
OPTIONAL_PARTS = {Channel.EMAIL: ("html",), Channel.DASHBOARD: ("subject",)}
TEXT_PARTS = frozenset({"subject", "text", "dashboard"})


@dataclass(frozen=True)
class Rendered:
    """The content of one notification on one channel."""

    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    dashboard_text: str = ""


@dataclass(frozen=True)
class NotificationKind:
    key: str
    group: str
    essential: bool
    description: str
    channels: tuple[str, ...]
    inline: Mapping[str, str] | None = field(default=None, hash=False)

    @property
    def template_name(self) -> str:
        return f"inline:{self.key}" if self.inline is not None else f"notifications/{self.key}/"

    def parts_for(self, channel: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return REQUIRED_PARTS[Channel(channel)], OPTIONAL_PARTS[Channel(channel)]

    def _template(self, part: str, *, required: bool) -> Template | None:
        engine = Engine.get_default()
        if self.inline is not None:
            source = self.inline.get(part)
            if source is None:
                if required:
                    raise LookupError(f"The inline templates of the kind '{self.key}' have no '{part}'.")
                return None
            return engine.from_string(source)
        try:
            return engine.get_template(f"notifications/{self.key}/{PART_FILES[part]}")
        except TemplateDoesNotExist:
            if required:
                raise
            return None

    def render(self, channel: str, context: Mapping[str, Any]) -> Rendered:
        """Render the parts the channel uses. The subject is one line; text parts are not
        HTML-escaped; surrounding whitespace is trimmed."""
        if channel not in self.channels:
            raise ValueError(
                f"The kind '{self.key}' is not sent by {channel}; its channels: {', '.join(self.channels)}."
            )
        required, optional = self.parts_for(channel)
        values: dict[str, str] = {}
        for part in (*required, *optional):
            template = self._template(part, required=part in required)
            if template is None:
                continue
            text = template.render(Context(dict(context), autoescape=part not in TEXT_PARTS))
            values[part] = " ".join(text.split()) if part == "subject" else text.strip()
        return Rendered(
            subject=values.get("subject", "")[:255],
            body_text=values.get("text", ""),
            body_html=values.get("html", ""),
            dashboard_text=values.get("dashboard", ""),
        )

    def check_templates(self) -> list[str]:
        """Problems with the templates the kind's channels need (for `manage.py check`)."""
        problems = []
        for channel in self.channels:
            required, optional = self.parts_for(channel)
            for part in (*required, *optional):
                try:
                    self._template(part, required=part in required)
                except (LookupError, TemplateDoesNotExist) as exc:
                    problems.append(f"{channel}: missing template {exc}")
                except Exception as exc:  # noqa: BLE001 - a syntax error, reported by the check
                    problems.append(f"{channel}: {part}: {exc}")
        return problems


_KINDS: dict[str, NotificationKind] = {}


def register_kind(
    key: str,
    *,
    group: str,
    essential: bool,
    description: str,
    channels: Iterable[str] = (Channel.EMAIL, Channel.DASHBOARD),
    inline: Mapping[str, str] | None = None,
) -> NotificationKind:
    """Register a kind of notification. `group` names its rate-limit group ("transactional" is
    never limited, "nudge" is limited and held back by quiet hours); `essential` kinds cannot be
    opted out of. Registering the same definition twice is harmless; a different one raises."""
    if not KIND_KEY.match(key):
        raise ValueError(f"Invalid kind key '{key}': lowercase letters, digits, '_', '.', '-' (at most 100).")
    if not GROUP_KEY.match(group):
        raise ValueError(f"Invalid kind group '{group}' for the kind '{key}'.")
    channels = tuple(str(Channel(c)) for c in channels)
    if not channels or len(set(channels)) != len(channels):
        raise ValueError(f"The kind '{key}' needs distinct channels among {', '.join(Channel.values)}.")
    if inline is not None:
        unknown = set(inline) - set(PART_FILES)
        if unknown:
            raise ValueError(f"Unknown inline template parts for '{key}': {', '.join(sorted(unknown))}.")
        inline = dict(inline)
    kind = NotificationKind(
        key=key, group=group, essential=essential, description=description, channels=channels, inline=inline
    )
    existing = _KINDS.get(key)
    if existing is not None and existing != kind:
        raise ValueError(f"The notification kind '{key}' is already registered with another definition.")
    if inline is not None:
        problems = kind.check_templates()
        if problems:
            raise ValueError(f"The inline templates of '{key}' are incomplete: {'; '.join(problems)}.")
    _KINDS[key] = kind
    return kind


def unregister_kind(key: str) -> None:
    """Forget a kind (for tests that register their own)."""
    _KINDS.pop(key, None)


def get_kind(key: str) -> NotificationKind:
    try:
        return _KINDS[key]
    except KeyError:
        raise LookupError(
            f"No notification kind '{key}' is registered. Kinds: {', '.join(sorted(_KINDS)) or 'none'}."
        ) from None


def kind_registry() -> dict[str, NotificationKind]:
    return dict(sorted(_KINDS.items()))
