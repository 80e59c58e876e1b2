"""The availability and slot-matching API: create windows for many people (400 naming the bad
item, unknown users), list them by person in a constant number of queries, delete them; search
candidate slots, book one (201 with the session and its registrations, 409 when no slot or the
chosen slot is taken), mentorship pairs through the resolver hook, idempotent POSTs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from scheduling import hooks
from scheduling.models import AvailabilityWindow, Registration, Session
from scheduling.services import session_create
from scheduling.services.availability import availability_create

pytestmark = pytest.mark.django_db

KYIV, NEW_YORK = "Europe/Kyiv", "America/New_York"
WINDOW_FIELDS = {
    "id",
    "program_id",
    "user_id",
    "kind",
    "weekday",
    "start_time",
    "end_time",
    "timezone",
    "valid_from",
    "valid_until",
    "starts_at",
    "ends_at",
    "created_at",
}


def availability_url(program_id) -> str:
    return f"/api/v1/admin/programs/{program_id}/availability"


def match_url(program_id) -> str:
    return f"/api/v1/admin/programs/{program_id}/scheduling/match"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _weekly(user, **fields) -> dict:
    return {
        "user_id": str(user.pk),
        "kind": "weekly",
        "weekday": 0,
        "start_time": "09:00",
        "end_time": "12:00",
        "timezone": KYIV,
        "valid_from": "2026-03-02",
        **fields,
    }


# --- Windows ------------------------------------------------------------------------------------


def test_create_windows_for_two_people_answers_201(operator_api, operator, program, make_user):
    ana, ben = make_user(), make_user(timezone=NEW_YORK)

    response = operator_api.post(
        availability_url(program.pk),
        {
            "windows": [
                _weekly(ana, valid_until="2026-06-29"),
                {
                    "user_id": str(ben.pk),
                    "kind": "one_off",
                    "starts_at": "2026-03-10T09:00:00-04:00",
                    "ends_at": "2026-03-10T11:30:00-04:00",
                },
            ]
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    windows = response.json()["windows"]
    assert [set(w) for w in windows] == [WINDOW_FIELDS, WINDOW_FIELDS]
    weekly, one_off = AvailabilityWindow.objects.get(owner=ana), AvailabilityWindow.objects.get(owner=ben)
    assert {k: v for k, v in windows[0].items() if k != "created_at"} == {
        "id": str(weekly.pk),
        "program_id": str(program.pk),
        "user_id": str(ana.pk),
        "kind": "weekly",
        "weekday": 0,
        "start_time": "09:00:00",
        "end_time": "12:00:00",
        "timezone": KYIV,
        "valid_from": "2026-03-02",
        "valid_until": "2026-06-29",
        "starts_at": None,
        "ends_at": None,
    }
    assert {k: v for k, v in windows[1].items() if k != "created_at"} == {
        "id": str(one_off.pk),
        "program_id": str(program.pk),
        "user_id": str(ben.pk),
        "kind": "one_off",
        "weekday": None,
        "start_time": None,
        "end_time": None,
        "timezone": NEW_YORK,
        "valid_from": None,
        "valid_until": None,
        "starts_at": "2026-03-10T13:00:00Z",
        "ends_at": "2026-03-10T15:30:00Z",
    }
    assert AuditEntry.objects.filter(action="availability.created", actor=operator).count() == 2


def test_create_answers_400_naming_the_bad_items(operator_api, program, make_user):
    ana = make_user()
    (existing,) = availability_create(program=program, items=[{**_internal(ana)}])
    missing = uuid.uuid4()

    response = operator_api.post(
        availability_url(program.pk),
        {
            "windows": [
                _weekly(ana, weekday=1),
                _weekly(ana, weekday=2, start_time="25:00"),
                _weekly(ana, weekday=3, timezone="Europe/Kiev "),
                _weekly(ana, weekday=4, timezone="Atlantis/Capital"),
                {"user_id": str(ana.pk), "kind": "one_off", "starts_at": "2026-03-10T09:00:00", "ends_at": None},
                {"user_id": "not-a-uuid", "kind": "yearly"},
            ]
        },
        format="json",
    )

    body = _problem(response, 400)
    assert body["errors"] == {
        "windows/1/start_time": "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].",
        "windows/4/starts_at": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00).",
        "windows/5/user_id": "Must be a valid UUID.",
        "windows/5/kind": '"yearly" is not a valid choice.',
    }
    assert body["detail"].startswith("windows/1/start_time: ")

    rules = operator_api.post(
        availability_url(program.pk),
        {
            "windows": [
                _weekly(ana, weekday=1),
                _weekly(ana, weekday=3, timezone="Atlantis/Capital"),
                _weekly(ana, start_time="11:00", end_time="13:00"),
                {"user_id": str(ana.pk), "kind": "one_off", "starts_at": "2026-03-10T09:00:00Z"},
            ]
        },
        format="json",
    )
    assert _problem(rules, 400)["errors"] == {
        "windows/1/timezone": "'Atlantis/Capital' is not an IANA time zone (e.g. Europe/Kyiv).",
        "windows/3/ends_at": "A one-off window needs a start and an end.",
    }

    overlap = operator_api.post(
        availability_url(program.pk),
        {"windows": [_weekly(ana, weekday=1), _weekly(ana, start_time="11:00", end_time="13:00")]},
        format="json",
    )
    assert _problem(overlap, 400)["errors"] == {
        "windows/1/start_time": f"Overlaps the window {existing.pk} of {ana} (weekly on Monday 09:00-12:00 "
        "Europe/Kyiv from 2026-03-02).",
    }

    unknown = operator_api.post(
        availability_url(program.pk),
        {"windows": [_weekly(ana, weekday=5), _weekly(ana, user_id=str(missing))]},
        format="json",
    )
    assert _problem(unknown, 400)["errors"] == {"windows/1/user_id": f"No user with the id {missing}."}
    assert AvailabilityWindow.objects.count() == 1


def _internal(user) -> dict:
    return {
        "owner": user,
        "kind": "weekly",
        "weekday": 0,
        "start_time": time(9),
        "end_time": time(12),
        "timezone": KYIV,
        "valid_from": date(2026, 3, 2),
    }


def test_create_is_idempotent_with_a_key(operator_api, program, make_user):
    ana = make_user()
    body = {"windows": [_weekly(ana)]}

    first = operator_api.post(availability_url(program.pk), body, format="json", HTTP_IDEMPOTENCY_KEY="win-1")
    again = operator_api.post(availability_url(program.pk), body, format="json", HTTP_IDEMPOTENCY_KEY="win-1")

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert AvailabilityWindow.objects.count() == 1


def test_only_operators_and_integrators_and_known_programs(writer_api, anon_api, integrator_api, program, make_user):
    ana = make_user()
    assert _problem(writer_api.get(availability_url(program.pk)), 403)["type"] == "/problems/permission-denied"
    assert _problem(anon_api.post(match_url(program.pk), {}), 401)["type"] == "/problems/not-authenticated"
    missing = uuid.uuid4()
    assert (
        _problem(integrator_api.get(availability_url(missing)), 404)["detail"] == f"No program with the id {missing}."
    )
    created = integrator_api.post(availability_url(program.pk), {"windows": [_weekly(ana)]}, format="json")
    assert created.status_code == 201


def _list_queries(client, url: str) -> int:
    client.get(url)  # warm up: the first request of a token also records its use
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_filters_by_person_in_a_constant_number_of_queries(
    operator_api, program, make_program, make_user, django_assert_max_num_queries
):
    ana, ben = make_user(), make_user()
    other = make_program(program.template, name="Another program")
    availability_create(
        program=program, items=[{**_internal(ana), "weekday": day} for day in range(3)] + [_internal(ben)]
    )
    availability_create(program=other, items=[{**_internal(ana), "weekday": 5}])

    everyone = operator_api.get(availability_url(program.pk)).json()
    only_ana = operator_api.get(availability_url(program.pk), {"user_id": str(ana.pk)}).json()

    assert everyone["count"] == 4
    assert [(w["user_id"], w["weekday"]) for w in only_ana["results"]] == [(str(ana.pk), d) for d in range(3)]
    few = _list_queries(operator_api, availability_url(program.pk))
    crowd = [make_user() for _ in range(12)]
    availability_create(program=program, items=[_internal(person) for person in crowd])
    assert _list_queries(operator_api, availability_url(program.pk)) == few
    with django_assert_max_num_queries(few):
        assert operator_api.get(availability_url(program.pk)).json()["count"] == 16


def test_delete_answers_204_and_404_for_another_programs_window(operator_api, program, make_program, make_user):
    ana = make_user()
    other = make_program(program.template, name="Another program")
    (window,) = availability_create(program=program, items=[_internal(ana)])
    (foreign,) = availability_create(program=other, items=[{**_internal(ana), "weekday": 4}])

    deleted = operator_api.delete(f"{availability_url(program.pk)}/{window.pk}")
    again = operator_api.delete(f"{availability_url(program.pk)}/{window.pk}")
    elsewhere = operator_api.delete(f"{availability_url(program.pk)}/{foreign.pk}")

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert _problem(again, 404)["detail"] == f"No availability window with the id {window.pk} in this program."
    assert _problem(elsewhere, 404)["status"] == 404
    assert list(AvailabilityWindow.objects.values_list("pk", flat=True)) == [foreign.pk]


# --- Matching -----------------------------------------------------------------------------------


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def pair(program, make_user, frozen):
    """Ana (Kyiv) and Ben (New York), both free 13:00-15:00 UTC on weekdays of the week of
    9 March 2026; Ben hosts another session on Monday 13:00-14:00."""
    ana, ben = make_user(email="ana@example.org", timezone=KYIV), make_user(email="ben@example.org", timezone=NEW_YORK)
    availability_create(
        program=program,
        items=[
            *({**_internal(ana), "weekday": d, "start_time": time(15), "end_time": time(17)} for d in range(5)),
            *(
                {**_internal(ben), "weekday": d, "start_time": time(9), "end_time": time(11), "timezone": NEW_YORK}
                for d in range(5)
            ),
        ],
    )
    session_create(
        program=program,
        kind="mentoring",
        title="Ben's Monday",
        starts_at=utc(2026, 3, 9, 13),
        ends_at=utc(2026, 3, 9, 14),
        host=ben,
    )
    return ana, ben


def _match(client, program, people, **fields):
    headers = {key: fields.pop(key) for key in list(fields) if key.startswith("HTTP_")}
    body = {
        "participant_ids": [str(p.pk) for p in people],
        "duration_minutes": 60,
        "range_start": "2026-03-09T00:00:00Z",
        "range_end": "2026-03-11T00:00:00Z",
        **fields,
    }
    return client.post(match_url(program.pk), body, format="json", **headers)


def test_match_answers_ranked_candidates(operator_api, program, pair):
    ana, ben = pair

    response = _match(operator_api, program, pair, limit=3)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "candidates": [
            {
                "starts_at": "2026-03-09T14:00:00Z",
                "ends_at": "2026-03-09T15:00:00Z",
                "score": 0.8667,  # (2 + 1 / (1 + (840 + 4 * 30) / 1440)) / 3
                "preferred_participants": 2,
                "slack_minutes": 0,
                "local_times": {str(ana.pk): "2026-03-09T16:00:00+02:00", str(ben.pk): "2026-03-09T10:00:00-04:00"},
            },
            {
                "starts_at": "2026-03-10T13:00:00Z",
                "ends_at": "2026-03-10T14:00:00Z",
                "score": 0.7978,  # (2 + 1 / (1 + (1440 + 780) / 1440)) / 3
                "preferred_participants": 2,
                "slack_minutes": 30,
                "local_times": {str(ana.pk): "2026-03-10T15:00:00+02:00", str(ben.pk): "2026-03-10T09:00:00-04:00"},
            },
            {
                "starts_at": "2026-03-10T13:15:00Z",
                "ends_at": "2026-03-10T14:15:00Z",
                "score": 0.7973,
                "preferred_participants": 2,
                "slack_minutes": 30,
                "local_times": {str(ana.pk): "2026-03-10T15:15:00+02:00", str(ben.pk): "2026-03-10T09:15:00-04:00"},
            },
        ]
    }


def test_match_with_preferred_hours_and_no_slot(operator_api, program, pair):
    preferred = _match(
        operator_api,
        program,
        pair,
        limit=2,
        preferred_hours={"start": "09:30", "end": "11:00", "timezone": NEW_YORK},
    )
    nothing = _match(operator_api, program, pair, range_start="2026-03-14T00:00:00Z", range_end="2026-03-16T00:00:00Z")

    assert [(c["starts_at"], c["preferred_participants"]) for c in preferred.json()["candidates"]] == [
        ("2026-03-09T14:00:00Z", 2),
        ("2026-03-10T13:30:00Z", 2),
    ]
    assert (nothing.status_code, nothing.json()) == (200, {"candidates": []})


def test_match_answers_400_per_field(operator_api, program, pair):
    missing = uuid.uuid4()
    response = operator_api.post(
        match_url(program.pk),
        {
            "participant_ids": [str(pair[0].pk), str(missing)],
            "duration_minutes": 60,
            "range_start": "2026-03-09T00:00:00",
            "range_end": "2026-03-11T00:00:00Z",
        },
        format="json",
    )
    rules = _match(
        operator_api,
        program,
        pair,
        duration_minutes=2000,
        range_end="2026-03-08T00:00:00Z",
        step_minutes=7,
        preferred_hours={"start": "10:00", "end": "09:00", "timezone": "Nowhere/Town"},
    )
    chosen_without_commit = _match(operator_api, program, pair, slot_starts_at="2026-03-10T13:00:00Z")

    assert _problem(response, 400)["errors"] == {
        "range_start": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."
    }
    assert _problem(rules, 400)["errors"] == {
        "duration_minutes": "From 5 to 1440 minutes.",
        "range_end": "The search range ends after it starts.",
        "step_minutes": "Slots start every 5, 10, 15, 20, 30, 60 minutes.",
        "preferred_hours/end": "Preferred hours end after they start, on the same day.",
        "preferred_hours/timezone": "'Nowhere/Town' is not an IANA time zone (e.g. Europe/Kyiv).",
    }
    assert _problem(chosen_without_commit, 400)["errors"] == {
        "slot_starts_at": "Choose a slot to book with `commit: true`."
    }
    unknown = _match(operator_api, program, [pair[0]], participant_ids=[str(pair[0].pk), str(missing)])
    assert _problem(unknown, 400)["errors"] == {"participant_ids/1": f"No user with the id {missing}."}


def test_pairs_answer_400_until_a_resolver_is_registered(operator_api, program, pair):
    from mentorship.selectors import pair_people

    ana, ben = pair
    pair_id, other_id = uuid.uuid4(), uuid.uuid4()

    hooks.unregister_pair_resolver(pair_people)  # the mentorship app's, registered at start-up
    try:
        before = _match(operator_api, program, [], pair_ids=[str(pair_id)])
    finally:
        hooks.register_pair_resolver(pair_people)
    assert _problem(before, 400)["errors"] == {
        "pair_ids/0": f"Mentorship pairs are not known to scheduling yet, so the pair {pair_id} cannot be "
        "resolved; name its people in `participant_ids`."
    }

    def resolver(in_program, wanted):
        return [ana, ben] if (in_program.pk, wanted) == (program.pk, pair_id) else None

    hooks.register_pair_resolver(resolver)
    try:
        found = _match(operator_api, program, [], pair_ids=[str(pair_id)], limit=1)
        unknown = _match(operator_api, program, [], pair_ids=[str(pair_id), str(other_id)])
    finally:
        hooks.unregister_pair_resolver(resolver)

    assert found.status_code == 200, found.content
    assert [c["starts_at"] for c in found.json()["candidates"]] == ["2026-03-09T14:00:00Z"]
    assert _problem(unknown, 400)["errors"] == {
        "pair_ids/1": f"No mentorship pair with the id {other_id} in this program."
    }


def test_commit_books_the_best_slot_and_a_second_commit_of_it_conflicts(operator_api, program, pair):
    ana, ben = pair

    booked = _match(
        operator_api,
        program,
        pair,
        commit=True,
        title="First meeting",
        host_id=str(ben.pk),
        limit=2,
        slot_starts_at="2026-03-10T15:00:00+02:00",
    )
    again = _match(
        operator_api, program, pair, commit=True, title="First meeting", slot_starts_at="2026-03-10T13:00:00Z"
    )

    assert booked.status_code == 201, booked.content
    body = booked.json()
    session = Session.objects.get(title="First meeting")
    assert body["session"] == {
        "id": str(session.pk),
        "program_id": str(program.pk),
        "kind": "mentoring",
        "title": "First meeting",
        "starts_at": "2026-03-10T13:00:00Z",
        "ends_at": "2026-03-10T14:00:00Z",
        "timezone": program.timezone,
        "host_id": str(ben.pk),
        "status": "scheduled",
        "join_url": session.join_url,
        "registrations": [{"user_id": str(ana.pk), "status": "registered", "source": "match"}],
    }
    assert [c["starts_at"] for c in body["candidates"]] == ["2026-03-09T14:00:00Z", "2026-03-10T13:00:00Z"]
    assert _problem(again, 409)["detail"] == (
        f"The slot 2026-03-10T13:00:00+00:00 to 2026-03-10T14:00:00+00:00 is not free for {ana}, {ben}."
    )
    assert Registration.objects.filter(user=ana, source="match").count() == 1


def test_commit_without_a_free_slot_or_with_a_wrong_host(operator_api, program, pair, make_user):
    none_free = _match(
        operator_api,
        program,
        pair,
        commit=True,
        title="Weekend",
        range_start="2026-03-14T00:00:00Z",
        range_end="2026-03-16T00:00:00Z",
    )
    stranger = _match(operator_api, program, pair, commit=True, title="Hosted", host_id=str(make_user().pk))
    untitled = _match(operator_api, program, pair, commit=True)

    assert _problem(none_free, 409)["detail"] == (
        "No 60-minute slot between 2026-03-14T00:00:00+00:00 and 2026-03-16T00:00:00+00:00 is free for all 2 "
        "participants."
    )
    assert _problem(stranger, 400)["errors"] == {"host_id": "The host is one of the participants (or of the pairs)."}
    assert _problem(untitled, 400)["errors"] == {"title": "A session needs a title."}
    assert Session.objects.exclude(title="Ben's Monday").count() == 0


def test_commit_is_idempotent_with_a_key(operator_api, program, pair):
    first = _match(operator_api, program, pair, commit=True, title="Once", HTTP_IDEMPOTENCY_KEY="match-1")
    again = _match(operator_api, program, pair, commit=True, title="Once", HTTP_IDEMPOTENCY_KEY="match-1")

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert Session.objects.filter(title="Once").count() == 1
