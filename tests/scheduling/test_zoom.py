"""The Zoom adapter against a local server speaking Zoom's API: Server-to-Server OAuth token fetch
and caching, refresh before expiry and after a 401, meeting create/update/delete shapes, and which
errors are retryable (429 with Retry-After, 5xx, time-outs) and which are not."""

from __future__ import annotations

import base64
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from scheduling.conferencing import Meeting, ProviderError, get_provider
from scheduling.conferencing.zoom import ZoomProvider, meeting_body, retry_after_seconds
from scheduling.models import Session
from tests.scheduling.zoom_server import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, FakeZoom

START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def zoom(settings):
    with FakeZoom() as server:
        server.configure(settings)
        yield server


def _session(**fields) -> Session:
    """An unsaved session: the adapter reads only its fields."""
    values = {
        "title": "Live read: the pilot",
        "description": "Bring your pages.",
        "starts_at": START,
        "ends_at": START + timedelta(minutes=90),
        "timezone": "Europe/Kyiv",
    }
    values.update(fields)
    return Session(**values)


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- Token ----------------------------------------------------------------------------------------


def test_the_token_is_fetched_with_account_credentials_and_reused(zoom):
    provider = get_provider("zoom")
    first = provider.create(_session())
    second = provider.create(_session(title="Second"))

    assert len(zoom.token_requests) == 1
    token_call = zoom.token_requests[0]
    assert token_call.query == {"grant_type": ["account_credentials"], "account_id": [ACCOUNT_ID]}
    assert token_call.authorization == _basic(CLIENT_ID, CLIENT_SECRET)
    token = next(iter(zoom.tokens))
    creates = zoom.calls_to("POST", r"^/v2/users/me/meetings$")
    assert [c.authorization for c in creates] == [f"Bearer {token}", f"Bearer {token}"]
    assert [c.status for c in creates] == [201, 201]
    assert first.external_id != second.external_id
    assert cache.get(provider.token_cache_key) == token


def test_the_cached_token_is_shared_by_every_provider_instance(zoom):
    ZoomProvider().create(_session())
    ZoomProvider().update(_session(), str(next(iter(zoom.meetings))))
    assert len(zoom.token_requests) == 1


def test_the_token_is_replaced_five_minutes_before_it_expires(zoom, monkeypatch):
    provider = get_provider("zoom")
    provider.create(_session())
    first = next(iter(zoom.tokens))
    real_time = time.time

    # 3298 s later the cached token is still used (Zoom would accept it until 3599 s).
    monkeypatch.setattr(time, "time", lambda: real_time() + 3298)
    provider.create(_session())
    assert len(zoom.token_requests) == 1

    # 3300 s later it is replaced before Zoom refuses it: no 401 on the way.
    monkeypatch.setattr(time, "time", lambda: real_time() + 3300)
    provider.create(_session())
    assert len(zoom.token_requests) == 2
    second = [t for t in zoom.tokens if t != first]
    assert len(second) == 1
    assert zoom.calls_to("POST", "/v2/")[-1].authorization == f"Bearer {second[0]}"
    assert [c.status for c in zoom.calls if c.path.startswith("/v2/")] == [201, 201, 201]


def test_an_expired_token_is_refreshed_and_the_call_retried_once(zoom):
    provider = get_provider("zoom")
    meeting = provider.create(_session())
    old_token = next(iter(zoom.tokens))
    zoom.expire_tokens()

    assert provider.update(_session(title="Renamed"), meeting.external_id) is None

    trail = [(c.method, c.path, c.status) for c in zoom.calls]
    assert trail == [
        ("POST", "/oauth/token", 200),
        ("POST", "/v2/users/me/meetings", 201),
        ("PATCH", f"/v2/meetings/{meeting.external_id}", 401),
        ("POST", "/oauth/token", 200),
        ("PATCH", f"/v2/meetings/{meeting.external_id}", 204),
    ]
    new_token = cache.get(provider.token_cache_key)
    assert new_token not in (None, old_token)
    assert zoom.calls[-1].authorization == f"Bearer {new_token}"
    assert zoom.meetings[int(meeting.external_id)].topic == "Renamed"


def test_a_token_refused_twice_is_not_retried_again(zoom):
    provider = get_provider("zoom")
    zoom.fail("POST", r"^/v2/users/me/meetings$", 401, {"code": 124, "message": "Invalid access token."}, times=2)

    with pytest.raises(ProviderError) as caught:
        provider.create(_session())

    assert caught.value.retryable is False
    assert caught.value.message == "Zoom could not create the meeting (HTTP 401, code 124): Invalid access token."
    assert [(c.method, c.path, c.status) for c in zoom.calls] == [
        ("POST", "/oauth/token", 200),
        ("POST", "/v2/users/me/meetings", 401),
        ("POST", "/oauth/token", 200),
        ("POST", "/v2/users/me/meetings", 401),
    ]


def test_wrong_credentials_are_not_retryable_and_the_secret_is_not_shown(zoom, settings):
    settings.ZOOM_CLIENT_SECRET = "wrong-secret-value-123"
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").create(_session())
    assert caught.value.retryable is False
    assert caught.value.message == (
        "Zoom refused the app's credentials (HTTP 401, invalid_client): Invalid client_id or client_secret. "
        "Check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET."
    )
    assert "wrong-secret-value-123" not in caught.value.message
    assert "wrong-secret-value-123" not in repr(get_provider("zoom"))
    assert zoom.calls_to("POST", "/v2/") == []


def test_zoom_without_credentials_is_not_configured(settings):
    settings.ZOOM_ACCOUNT_ID = ""
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").create(_session())
    assert (caught.value.retryable, caught.value.message) == (
        False,
        "Zoom is not configured: set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET.",
    )


def test_secrets_and_tokens_never_reach_the_logs(zoom, caplog):
    caplog.set_level(logging.DEBUG)
    provider = get_provider("zoom")
    meeting = provider.create(_session())
    zoom.expire_tokens()
    provider.update(_session(), meeting.external_id)
    zoom.fail("DELETE", r"/v2/meetings/", 500, {"code": 500, "message": "boom"})
    with pytest.raises(ProviderError):
        provider.delete(meeting.external_id)

    assert zoom.tokens  # tokens were issued ...
    logged = caplog.text
    for secret in (CLIENT_SECRET, *zoom.tokens, base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()):
        assert secret not in logged  # ... and none of them, nor the secret, was logged


# --- Meetings -------------------------------------------------------------------------------------


def test_a_meeting_is_created_from_the_session(zoom):
    session = _session(title="T" * 250, description="Agenda " * 400)
    meeting = get_provider("zoom").create(session)

    stored = zoom.meetings[int(meeting.external_id)]
    assert meeting == Meeting(join_url=stored.join_url, host_url=stored.start_url, external_id=str(stored.id))
    assert meeting.join_url.startswith(f"https://us06web.zoom.us/j/{stored.id}?pwd=")
    body = zoom.calls_to("POST", "/v2/users/me/meetings")[0].body
    assert (
        body
        == {
            "topic": "T" * 200,
            "type": 2,
            "start_time": "2026-03-10T16:00:00Z",
            "timezone": "Europe/Kiev",  # Zoom's name for Europe/Kyiv
            "duration": 90,
            "agenda": ("Agenda " * 400)[:2000],
        }
    )
    assert (stored.start_time, stored.duration, stored.timezone) == ("2026-03-10T16:00:00Z", 90, "Europe/Kiev")


def test_the_start_is_sent_in_utc_across_a_dst_change():
    # 18:00 in Kyiv is 16:00 UTC in winter and 15:00 UTC in summer (DST from 29 March 2026).
    winter = _session(
        starts_at=datetime(2026, 3, 26, 16, 0, tzinfo=UTC), ends_at=datetime(2026, 3, 26, 17, 1, tzinfo=UTC)
    )
    summer = _session(
        starts_at=datetime(2026, 4, 2, 15, 0, tzinfo=UTC), ends_at=datetime(2026, 4, 2, 16, 0, tzinfo=UTC)
    )
    assert (meeting_body(winter)["start_time"], meeting_body(winter)["duration"]) == ("2026-03-26T16:00:00Z", 61)
    assert (meeting_body(summer)["start_time"], meeting_body(summer)["duration"]) == ("2026-04-02T15:00:00Z", 60)
    assert meeting_body(_session(timezone="America/New_York"))["timezone"] == "America/New_York"


def test_update_patches_the_meeting(zoom):
    provider = get_provider("zoom")
    meeting = provider.create(_session())
    later = START + timedelta(days=1, hours=2)

    result = provider.update(_session(starts_at=later, ends_at=later + timedelta(minutes=45)), meeting.external_id)

    assert result is None
    patch = zoom.calls_to("PATCH")[0]
    assert (patch.path, patch.status) == (f"/v2/meetings/{meeting.external_id}", 204)
    assert patch.body["start_time"] == "2026-03-11T18:00:00Z"
    stored = zoom.meetings[int(meeting.external_id)]
    assert (stored.start_time, stored.duration) == ("2026-03-11T18:00:00Z", 45)


def test_updating_a_meeting_deleted_at_zoom_says_it_is_gone(zoom):
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").update(_session(), "12345")
    assert (caught.value.gone, caught.value.retryable) == (True, False)
    assert (
        caught.value.message
        == "Zoom could not update meeting 12345 (HTTP 404, code 3001): Meeting does not exist: 12345."
    )


def test_delete_removes_the_meeting_and_a_missing_one_counts_as_deleted(zoom):
    provider = get_provider("zoom")
    meeting = provider.create(_session())
    provider.delete(meeting.external_id)
    provider.delete(meeting.external_id)
    assert zoom.meetings == {}
    assert [c.status for c in zoom.calls_to("DELETE")] == [204, 404]


# --- Errors ---------------------------------------------------------------------------------------


def test_a_rate_limit_is_retryable_after_the_time_zoom_asks_for(zoom):
    zoom.fail(
        "POST",
        r"^/v2/users/me/meetings$",
        429,
        {"code": 429, "message": "You have reached the maximum per-second rate limit for this API."},
        headers={"Retry-After": "17"},
    )
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").create(_session())
    error = caught.value
    assert (error.retryable, error.retry_after, error.gone) == (True, 17.0, False)
    assert error.message == (
        "Zoom could not create the meeting (HTTP 429, code 429): You have reached the maximum per-second rate "
        "limit for this API. Rate limited; retried later."
    )


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("Mon, 02 Mar 2026 09:35:00 GMT", 300.0),
        ("2026-03-03T00:00:00Z", 52200.0),
        ("Thu, 01 Jan 2026 00:00:00 GMT", 0.0),
        ("999999999", 86400.0),
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_takes_seconds_or_a_date(frozen, header, seconds):
    assert retry_after_seconds(header) == seconds


@pytest.mark.parametrize("status", [500, 502, 503])
def test_zoom_outages_are_retryable(zoom, status):
    zoom.fail("PATCH", r"/v2/meetings/", status, {"code": status, "message": "Internal error"})
    meeting = get_provider("zoom").create(_session())
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").update(_session(), meeting.external_id)
    assert (caught.value.retryable, caught.value.retry_after) == (True, None)
    assert (
        caught.value.message
        == f"Zoom could not update meeting {meeting.external_id} (HTTP {status}, code {status}): Internal error"
    )


def test_a_time_out_is_retryable(zoom, settings):
    settings.ZOOM_TIMEOUT_SECONDS = 0.3
    zoom.delay("POST", r"^/v2/users/me/meetings$", 1.0)
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").create(_session())
    assert (caught.value.retryable, caught.value.message) == (True, "Zoom did not answer within 0.3 s.")


def test_an_unreachable_zoom_is_retryable(settings):
    with FakeZoom() as server:
        server.configure(settings)
    # The server is shut: nothing listens there any more.
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").create(_session())
    assert (caught.value.retryable, caught.value.message) == (True, "Zoom could not be reached (ConnectionError).")


def test_refused_input_is_not_retryable(zoom):
    zoom.fail("POST", r"^/v2/users/me/meetings$", 400, {"code": 300, "message": "Invalid field: start_time."})
    with pytest.raises(ProviderError) as caught:
        get_provider("zoom").create(_session())
    assert (caught.value.retryable, caught.value.gone) == (False, False)
    assert caught.value.message == "Zoom could not create the meeting (HTTP 400, code 300): Invalid field: start_time."
