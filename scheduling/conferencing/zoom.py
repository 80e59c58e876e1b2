"""Zoom: meetings through the Meetings API, authorised by a Server-to-Server OAuth app.

- Token: `POST ZOOM_OAUTH_URL?grant_type=account_credentials&account_id=...` with HTTP Basic
  `client_id:client_secret`. The access token (one hour) is kept in the Django cache, shared by
  every process, and replaced five minutes before it expires; a 401 from the API (Zoom code 124,
  expired or revoked token) drops it, fetches a new one and retries the call once.
- Meetings: `POST /users/me/meetings` (201), `PATCH /meetings/{id}` (204), `DELETE /meetings/{id}`
  (204; a meeting already gone counts as deleted). Topic, start, time zone, duration and agenda
  come from the session; the start is sent in UTC (`...Z`) so it is exact whatever Zoom knows of
  the zone, and the zone is sent for display.
- Errors: 429 (with `Retry-After` honoured), 5xx, time-outs and connection failures are retryable;
  other 4xx are not (they need an operator). Messages carry Zoom's own message and never a secret.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.cache import cache

from core import clock
from scheduling.conferencing import Meeting, Provider, ProviderError

if TYPE_CHECKING:
    from scheduling.models import Session

# A cached token is replaced this many seconds before Zoom says it expires.
TOKEN_REFRESH_MARGIN = 300
TOKEN_MIN_TTL = 30
TOPIC_MAX = 200
AGENDA_MAX = 2000
JOIN_URL_MAX = 500
HOST_URL_MAX = 1000
# A Retry-After further away than this is taken as this (Zoom's daily limits reset within a day).
RETRY_AFTER_MAX = 86400.0
# Zoom's time-zone list predates these IANA renames.
TIMEZONE_ALIASES = {"Europe/Kyiv": "Europe/Kiev", "America/Nuuk": "America/Godthab"}


def meeting_body(session: Session) -> dict[str, Any]:
    """The meeting fields Zoom gets for a session (create and update send the same)."""
    minutes = math.ceil((session.ends_at - session.starts_at).total_seconds() / 60)
    return {
        "topic": session.title[:TOPIC_MAX],
        "type": 2,  # a scheduled meeting
        "start_time": session.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": TIMEZONE_ALIASES.get(session.timezone, session.timezone),
        "duration": max(minutes, 1),
        "agenda": session.description[:AGENDA_MAX],
    }


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds from now (0 to a day): a number of seconds, an HTTP date or an ISO
    8601 instant; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    seconds: float
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - clock.now()).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def _zoom_message(response: requests.Response) -> tuple[str, str]:
    """(code, message) of a Zoom error body: the API answers {"code", "message"}, the OAuth
    endpoint {"error", "reason"}."""
    try:
        data = response.json()
    except ValueError:
        return "", (response.text or "").strip()[:300]
    if not isinstance(data, dict):
        return "", ""
    code = data.get("code", data.get("error", ""))
    message = data.get("message", data.get("reason", ""))
    return str(code), str(message)[:500]


class ZoomProvider(Provider):
    key = "zoom"
    needs_network = True

    def __init__(self) -> None:
        self.account_id = getattr(settings, "ZOOM_ACCOUNT_ID", "")
        self.client_id = getattr(settings, "ZOOM_CLIENT_ID", "")
        self._client_secret = getattr(settings, "ZOOM_CLIENT_SECRET", "")
        self.api_base = getattr(settings, "ZOOM_API_BASE_URL", "https://api.zoom.us/v2").rstrip("/")
        self.oauth_url = getattr(settings, "ZOOM_OAUTH_URL", "https://zoom.us/oauth/token")
        self.timeout = float(getattr(settings, "ZOOM_TIMEOUT_SECONDS", 10))

    def __repr__(self) -> str:  # never show the secret
        return f"<ZoomProvider account={self.account_id!r} client={self.client_id!r}>"

    # --- Token ----------------------------------------------------------------------------------

    @property
    def token_cache_key(self) -> str:
        digest = hashlib.sha256(f"{self.oauth_url}|{self.account_id}|{self.client_id}".encode()).hexdigest()[:24]
        return f"conferencing:zoom:token:{digest}"

    def access_token(self, *, fresh: bool = False) -> str:
        """The cached access token, or a new one from the OAuth endpoint (`fresh`: always new)."""
        if not (self.account_id and self.client_id and self._client_secret):
            raise ProviderError(
                "Zoom is not configured: set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET.",
                retryable=False,
            )
        if not fresh:
            token = cache.get(self.token_cache_key)
            if token:
                return token
        response = self._send(
            "POST",
            self.oauth_url,
            params={"grant_type": "account_credentials", "account_id": self.account_id},
            auth=(self.client_id, self._client_secret),
        )
        if response.status_code != 200:
            code, message = _zoom_message(response)
            if response.status_code in (400, 401, 403):
                raise ProviderError(
                    f"Zoom refused the app's credentials (HTTP {response.status_code}"
                    f"{', ' + code if code else ''}): {message or 'no reason given'}. Check ZOOM_ACCOUNT_ID, "
                    "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET.",
                    retryable=False,
                )
            raise self._error(response, "issue an access token")
        try:
            data = response.json()
            token = str(data["access_token"])
            expires_in = int(data.get("expires_in", 3599))
        except (ValueError, KeyError, TypeError):
            raise ProviderError("Zoom answered the token request without an access token.", retryable=True) from None
        cache.set(self.token_cache_key, token, timeout=max(expires_in - TOKEN_REFRESH_MARGIN, TOKEN_MIN_TTL))
        return token

    # --- HTTP -----------------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return requests.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.Timeout:
            raise ProviderError(f"Zoom did not answer within {self.timeout:g} s.", retryable=True) from None
        except requests.RequestException as exc:
            # The exception text may carry the request's address; only its kind is reported.
            raise ProviderError(f"Zoom could not be reached ({type(exc).__name__}).", retryable=True) from None

    def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> requests.Response:
        """An API call with the cached token; on a 401 a new token and one more try."""
        token = self.access_token()
        response = self._send(method, self.api_base + path, json=json, headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 401:
            cache.delete(self.token_cache_key)
            token = self.access_token(fresh=True)
            response = self._send(method, self.api_base + path, json=json, headers={"Authorization": f"Bearer {token}"})
        return response

    def _error(self, response: requests.Response, action: str) -> ProviderError:
        status = response.status_code
        code, message = _zoom_message(response)
        detail = f"Zoom could not {action} (HTTP {status}{', code ' + code if code else ''})"
        detail = f"{detail}: {message}" if message else detail
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            sep = " " if detail.endswith(".") else ". "
            return ProviderError(f"{detail}{sep}Rate limited; retried later.", retryable=True, retry_after=wait)
        if status >= 500:
            return ProviderError(detail, retryable=True)
        return ProviderError(detail, retryable=False, gone=status == 404)

    # --- Meetings -------------------------------------------------------------------------------

    def create(self, session: Session) -> Meeting:
        response = self._call("POST", "/users/me/meetings", json=meeting_body(session))
        if response.status_code not in (200, 201):
            raise self._error(response, "create the meeting")
        try:
            data = response.json()
            meeting_id, join_url = str(data["id"]), str(data["join_url"])
            start_url = str(data.get("start_url") or "")
        except (ValueError, KeyError, TypeError):
            raise ProviderError("Zoom answered the new meeting without its id or join link.", retryable=True) from None
        if not join_url.startswith("https://") or len(join_url) > JOIN_URL_MAX:
            raise ProviderError("Zoom answered a join link the platform cannot keep.", retryable=False)
        # The host can always start from the Zoom app; a start link too long to keep is left out.
        host_url = start_url if start_url.startswith("https://") and len(start_url) <= HOST_URL_MAX else ""
        return Meeting(join_url=join_url, host_url=host_url, external_id=meeting_id)

    def update(self, session: Session, external_id: str) -> Meeting | None:
        response = self._call("PATCH", f"/meetings/{quote(external_id, safe='')}", json=meeting_body(session))
        if response.status_code in (200, 204):
            return None
        raise self._error(response, f"update meeting {external_id}")

    def delete(self, external_id: str) -> None:
        response = self._call("DELETE", f"/meetings/{quote(external_id, safe='')}")
        if response.status_code in (200, 204, 404):  # 404 (code 3001): already gone
            return
        raise self._error(response, f"delete meeting {external_id}")
