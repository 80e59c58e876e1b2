"""A local HTTP server that speaks the parts of Zoom's API the platform uses, for tests.

- `POST /oauth/token?grant_type=account_credentials&account_id=...` with HTTP Basic
  `client_id:client_secret` -> `{"access_token", "token_type": "bearer", "expires_in": 3599, "scope",
  "api_url"}`; wrong credentials -> 401 `{"reason", "error": "invalid_client"}`;
- `POST /v2/users/me/meetings` -> 201 with the meeting (`id`, `join_url`, `start_url`, ...);
- `GET /v2/meetings/{id}` -> 200 with the meeting; `PATCH /v2/meetings/{id}` -> 204;
  `DELETE /v2/meetings/{id}` -> 204; an unknown meeting -> 404 `{"code": 3001, "message"}`;
- a missing, unknown or expired bearer token -> 401 `{"code": 124, "message"}`;
- `fail(...)` queues error answers (e.g. 429 with `Retry-After`, 500), `delay(...)` slows a route,
  `expire_tokens()` expires every token issued so far. Every request is recorded in `calls`.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

ACCOUNT_ID = "acc-Zx81"
CLIENT_ID = "client-7Hq"
CLIENT_SECRET = "s3cr3t-Zoom-client-secret-value"
TOKEN_LIFETIME = 3599


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str
    status: int = 0


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int


@dataclass
class Meeting:
    id: int
    topic: str
    start_time: str
    timezone: str
    duration: int
    agenda: str
    join_url: str
    start_url: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "uuid": base64.b64encode(str(self.id).encode()).decode(),
            "id": self.id,
            "host_id": "h0stUs3r1D",
            "host_email": "host@zoom.example",
            "topic": self.topic,
            "type": 2,
            "status": "waiting",
            "start_time": self.start_time,
            "duration": self.duration,
            "timezone": self.timezone,
            "agenda": self.agenda,
            "created_at": "2026-03-02T09:30:00Z",
            "start_url": self.start_url,
            "join_url": self.join_url,
            "password": "a1b2c3",
            "pre_schedule": False,
            "settings": {"join_before_host": False, "waiting_room": False},
        }


class FakeZoom:
    def __init__(self, *, account_id: str = ACCOUNT_ID, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET):
        self.account_id, self.client_id, self.client_secret = account_id, client_id, client_secret
        self.tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self.meetings: dict[int, Meeting] = {}
        self.calls: list[Call] = []
        self._faults: list[Fault] = []
        self._delays: list[tuple[str, re.Pattern[str], float]] = []
        self._ids = itertools.count(85_746_065_001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- Lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> FakeZoom:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def configure(self, settings: Any) -> None:
        """Point the product's Zoom settings (pytest-django `settings`) at this server."""
        settings.ZOOM_ACCOUNT_ID = self.account_id
        settings.ZOOM_CLIENT_ID = self.client_id
        settings.ZOOM_CLIENT_SECRET = self.client_secret
        settings.ZOOM_API_BASE_URL = f"{self.base_url}/v2"
        settings.ZOOM_OAUTH_URL = f"{self.base_url}/oauth/token"
        settings.ZOOM_TIMEOUT_SECONDS = 2

    # --- Test controls --------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path_pattern: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` and `body` (JSON)."""
        with self._lock:
            self._faults.append(Fault(method, re.compile(path_pattern), status, body, dict(headers or {}), times))

    def delay(self, method: str, path_pattern: str, seconds: float) -> None:
        """Hold matching requests for `seconds` before answering."""
        with self._lock:
            self._delays.append((method, re.compile(path_pattern), seconds))

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def calls_to(self, method: str, path_pattern: str = "") -> list[Call]:
        pattern = re.compile(path_pattern)
        with self._lock:
            return [c for c in self.calls if c.method == method and pattern.search(c.path)]

    @property
    def token_requests(self) -> list[Call]:
        return self.calls_to("POST", r"^/oauth/token$")

    # --- Zoom's behaviour -----------------------------------------------------------------------

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None

    def _delay_for(self, method: str, path: str) -> float:
        with self._lock:
            return sum(s for m, p, s in self._delays if m == method and p.search(path))

    def _token(self, call: Call) -> tuple[int, Any]:
        if call.query.get("grant_type") != ["account_credentials"]:
            return 400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if call.authorization != expected:
            return 401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
        if call.query.get("account_id") != [self.account_id]:
            return 400, {"reason": "Invalid request : Account ID is invalid.", "error": "invalid_request"}
        token = "zt_" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.time() + TOKEN_LIFETIME
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": "meeting:write:meeting:admin meeting:update:meeting:admin meeting:delete:meeting:admin",
            "api_url": "https://api.zoom.us",
        }

    def _authorised(self, call: Call) -> tuple[int, Any] | None:
        token = call.authorization.removeprefix("Bearer ").strip() if call.authorization.startswith("Bearer ") else ""
        with self._lock:
            expiry = self.tokens.get(token)
        if expiry is None:
            return 401, {"code": 124, "message": "Invalid access token."}
        if expiry <= time.time():
            return 401, {"code": 124, "message": "Access token is expired."}
        return None

    @staticmethod
    def _fields_error(body: Any, *, partial: bool) -> str | None:
        if not isinstance(body, dict):
            return "Request Body should be a valid JSON object."
        if not partial and not body.get("topic"):
            return "Invalid field: topic."
        if "topic" in body and len(body["topic"]) > 200:
            return "Invalid field: topic (max 200 characters)."
        if "duration" in body and (not isinstance(body["duration"], int) or body["duration"] < 1):
            return "Invalid field: duration."
        if "start_time" in body and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ?", str(body["start_time"])):
            return "Invalid field: start_time."
        return None

    @staticmethod
    def _start_utc(body: dict[str, Any]) -> str:
        value = body["start_time"]
        if value.endswith("Z"):
            return value
        local = datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(body.get("timezone") or "UTC"))
        return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _api(self, call: Call) -> tuple[int, Any]:
        refused = self._authorised(call)
        if refused is not None:
            return refused
        if call.method == "POST" and call.path == "/v2/users/me/meetings":
            error = self._fields_error(call.body, partial=False)
            if error:
                return 400, {"code": 300, "message": error}
            meeting_id = next(self._ids)
            meeting = Meeting(
                id=meeting_id,
                topic=call.body["topic"],
                start_time=self._start_utc(call.body) if "start_time" in call.body else "",
                timezone=call.body.get("timezone", "UTC"),
                duration=call.body.get("duration", 60),
                agenda=call.body.get("agenda", ""),
                join_url=f"https://us06web.zoom.us/j/{meeting_id}?pwd={secrets.token_urlsafe(16)}",
                start_url=f"https://us06web.zoom.us/s/{meeting_id}?zak={secrets.token_urlsafe(96)}",
            )
            with self._lock:
                self.meetings[meeting_id] = meeting
            return 201, meeting.as_json()
        match = re.fullmatch(r"/v2/meetings/(\d+)", call.path)
        if match is None:
            return 404, {"code": 404, "message": "No such API."}
        meeting_id = int(match.group(1))
        with self._lock:
            meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return 404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}
        if call.method == "GET":
            return 200, meeting.as_json()
        if call.method == "DELETE":
            with self._lock:
                self.meetings.pop(meeting_id, None)
            return 204, None
        if call.method == "PATCH":
            error = self._fields_error(call.body, partial=True)
            if error:
                return 400, {"code": 300, "message": error}
            with self._lock:
                for name in ("topic", "timezone", "duration", "agenda"):
                    if name in call.body:
                        setattr(meeting, name, call.body[name])
                if "start_time" in call.body:
                    meeting.start_time = self._start_utc(call.body)
            return 204, None
        return 405, {"code": 405, "message": "Method not allowed."}

    def handle(self, call: Call) -> tuple[int, Any, dict[str, str]]:
        pause = self._delay_for(call.method, call.path)
        if pause:
            time.sleep(pause)
        fault = self._fault_for(call.method, call.path)
        if fault is not None:
            return fault.status, fault.body, fault.headers
        if call.path == "/oauth/token" and call.method == "POST":
            status, body = self._token(call)
        elif call.path.startswith("/v2/"):
            status, body = self._api(call)
        else:
            status, body = 404, {"code": 404, "message": "Not found."}
        return status, body, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                call = Call(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    body=body,
                    authorization=self.headers.get("Authorization", ""),
                )
                with fake._lock:
                    fake.calls.append(call)
                status, payload, headers = fake.handle(call)
                call.status = status
                data = b"" if payload is None or status == 204 else json.dumps(payload).encode()
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if data:
                    self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        return Handler
