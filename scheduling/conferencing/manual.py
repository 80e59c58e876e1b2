"""Manual: an operator pastes the meeting's link (any service). The platform keeps the link and
never calls anyone; moving or cancelling the meeting is the operator's job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from scheduling.conferencing import Meeting, Provider, ProviderError

if TYPE_CHECKING:
    from scheduling.models import Session

JOIN_URL_MAX = 500
HOST_URL_MAX = 1000
_https = URLValidator(schemes=["https"])


def link_error(value: object, *, max_length: int) -> str | None:
    """Why `value` is not a usable meeting link (an absolute https URL without credentials), or None."""
    if not isinstance(value, str) or not value.strip():
        return "Paste the meeting's link (https://...)."
    value = value.strip()
    if len(value) > max_length:
        return f"A link has at most {max_length} characters."
    if not value.lower().startswith("https://"):
        return "The link must start with https://."
    try:
        _https(value)
    except ValidationError:
        return "This is not a valid https link."
    authority = value[len("https://") :].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in authority:
        return "The link must not contain a user name or password."
    return None


class ManualProvider(Provider):
    key = "manual"
    needs_network = False

    def create(self, session: Session) -> Meeting:
        if not session.join_url:
            raise ProviderError("Paste the meeting's link: manual meetings are not created here.", retryable=False)
        return Meeting(join_url=session.join_url, host_url=session.host_url)

    def update(self, session: Session, external_id: str) -> Meeting | None:
        return None

    def delete(self, external_id: str) -> None:
        return None
