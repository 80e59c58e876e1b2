"""The load mix, for locust (headless, driven by `load/run.py`). Each simulated person, between
0.5 and 1.5 s of thinking, does one of:

- `page.catalog` (`/`) and `page.program` (`/programs/<key>/`): the public pages;
- `api.catalog.list` and `api.catalog.detail` (`/api/v1/programs[/<id>]`): the public API catalog;
- `api.me.sessions` (`/api/v1/me/sessions?when=upcoming`): a writer's upcoming sessions;
- `api.apply.create` then `api.apply.submit`: a writer starts an application (a draft) and submits
  it (`PATCH .../applications/me`), with an `Idempotency-Key`; each writer applies once per program;
- `webhook.inbound`: a partner's signed `buddy.user.joined` event (Standard Webhooks signature);
- `api.analytics.program`: the operator's program analytics (the larger load program).

Every request is recorded (kind, milliseconds, failed) and written at the end to `LOAD_SAMPLES` as
JSON, with the run's start and end, for `load/run.py` to compute the figures from. `LOAD_FIXTURE`
is the JSON `load/seed.py` wrote.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import random
import time
import uuid

from locust import HttpUser, between, events, task

FIXTURE = json.loads(open(os.environ["LOAD_FIXTURE"]).read())  # noqa: SIM115 - read once at import
SAMPLES: list[tuple[str, float, bool]] = []
CLOCK = {"start": None, "stop": None}
# (writer token, program id) pairs, handed out once each: one application per writer and program.
# A rerun on the same data (LOAD_SEED=0) starts after the pairs earlier runs used.
_pairs = itertools.islice(
    ((token, program) for token in FIXTURE["writer_tokens"] for program in FIXTURE["open_programs"]),
    FIXTURE.get("pairs_used", 0),
    None,
)
USED = {"pairs": 0}
_joined = itertools.count(1)
_run = uuid.uuid4().hex[:8]


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    SAMPLES.append((name, response_time, exception is not None))


@events.test_start.add_listener
def _start(**kwargs):
    CLOCK["start"] = time.time()


@events.test_stop.add_listener
def _stop(**kwargs):
    CLOCK["stop"] = time.time()
    path = os.environ.get("LOAD_SAMPLES")
    if path:
        with open(path, "w") as out:
            json.dump({"start": CLOCK["start"], "stop": CLOCK["stop"], "pairs": USED["pairs"], "samples": SAMPLES}, out)


def _sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class Visitor(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.writer = random.choice(FIXTURE["writer_tokens"])

    def _get(self, url, name, token=None):
        headers = {"Authorization": f"Token {token}"} if token else {}
        with self.client.get(url, name=name, headers=headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(20)
    def catalog_page(self):
        self._get("/", "page.catalog")

    @task(15)
    def program_page(self):
        program = random.choice(FIXTURE["catalog"])
        self._get(f"/programs/{program['key']}/", "page.program")

    @task(12)
    def api_catalog_list(self):
        self._get("/api/v1/programs", "api.catalog.list")

    @task(8)
    def api_catalog_detail(self):
        program = random.choice(FIXTURE["catalog"])
        self._get(f"/api/v1/programs/{program['id']}", "api.catalog.detail")

    @task(15)
    def my_sessions(self):
        self._get("/api/v1/me/sessions?when=upcoming", "api.me.sessions", token=self.writer)

    @task(8)
    def apply(self):
        pair = next(_pairs, None)
        if pair is None:
            return
        USED["pairs"] += 1
        token, program = pair
        headers = {"Authorization": f"Token {token}", "Idempotency-Key": uuid.uuid4().hex}
        url = f"/api/v1/programs/{program}/applications"
        body = {"answers": {"motivation": "I would like to learn and to help others."}}
        with self.client.post(url, json=body, headers=headers, name="api.apply.create", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
        headers["Idempotency-Key"] = uuid.uuid4().hex
        with self.client.patch(
            f"{url}/me", json={"action": "submit"}, headers=headers, name="api.apply.submit", catch_response=True
        ) as r:
            if r.status_code != 200 or r.json().get("status") != "submitted":
                r.failure(f"{r.status_code}: {r.text[:200]}")

    @task(8)
    def inbound_webhook(self):
        inbound = FIXTURE["inbound"]
        n = next(_joined)
        payload = {
            "external_id": f"load-{_run}-{n}",
            "email": f"joined-{_run}-{n}@partner.load.example.org",
            "name": f"Partner person {n}",
            "role": "participant" if n % 4 else "buddy",
            "joined_at": "2026-11-01T09:00:00Z",
        }
        if inbound.get("program_key"):
            payload["program_key"] = inbound["program_key"]
        envelope = {
            "event_id": f"evt-{_run}-{n}",
            "event_type": "buddy.user.joined",
            "schema_version": 1,
            "occurred_at": "2026-11-01T09:00:01Z",
            "producer": "buddy",
            "subject": {"type": "user", "id": payload["external_id"]},
            "actor": "partner:buddy",
            "correlation_id": None,
            "causation_id": None,
            "payload": payload,
        }
        body = json.dumps(envelope).encode()
        msg_id, now = f"msg_{_run}_{n}", int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": _sign(inbound["secret"], msg_id, now, body),
        }
        with self.client.post(
            f"/api/v1/integrations/events/{inbound['source']}",
            data=body,
            headers=headers,
            name="webhook.inbound",
            catch_response=True,
        ) as r:
            if r.status_code != 202:
                r.failure(f"{r.status_code}: {r.text[:200]}")

    @task(2)
    def analytics(self):
        self._get(
            f"/api/v1/admin/programs/{FIXTURE['analytics_program']}/analytics",
            "api.analytics.program",
            token=FIXTURE["operator_token"],
        )
