"""The enrollments API: create, status changes, filters, pagination, query counts, permissions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from core.models import AuditEntry
from enrollments.models import Enrollment
from enrollments.services import enrollment_create, enrollment_set_status
from programs.services import campaign_create, campaign_update

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/enrollments"
FROZEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 4, 15, 17, 0, tzinfo=UTC)
ENROLLMENT_FIELDS = {
    "id",
    "user_id",
    "program_id",
    "campaign_id",
    "beneficiary_group_id",
    "program_type",
    "role",
    "source_system",
    "status",
    "enrolled_at",
    "completed_at",
    "dropped_at",
    "reason",
    "created_at",
    "updated_at",
}


@pytest.fixture
def frozen(monkeypatch):
    """Move the product's clock (core.clock.now) to a fixed instant; returns a setter."""
    state = {"now": FROZEN}
    monkeypatch.setattr(clock, "now", lambda: state["now"])

    def _set(value: datetime) -> None:
        state["now"] = value

    return _set


def _problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _audits(target, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_id=str(target.pk), action=action).order_by("created_at"))


# --- POST /api/v1/admin/enrollments -------------------------------------------------------------


def test_create_answers_201_with_the_enrollment_and_copies_type_and_group_from_the_program(
    operator_api, operator, make_user, program, campaign, frozen
):
    user = make_user(email="mentee@example.org")

    response = operator_api.post(
        URL,
        {"user_id": str(user.id), "program_id": str(program.id), "campaign_id": str(campaign.id), "role": "mentee"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ENROLLMENT_FIELDS
    enrollment = Enrollment.objects.get()
    assert body["id"] == str(enrollment.id)
    assert {k: body[k] for k in ENROLLMENT_FIELDS - {"id", "created_at", "updated_at"}} == {
        "user_id": str(user.id),
        "program_id": str(program.id),
        "campaign_id": str(campaign.id),
        "beneficiary_group_id": str(program.beneficiary_group_id),
        "program_type": "mentorship",
        "role": "mentee",
        "source_system": "platform",
        "status": "active",
        "enrolled_at": "2026-03-02T09:30:00Z",
        "completed_at": None,
        "dropped_at": None,
        "reason": "",
    }
    # Dual-write: the row carries the program's type and beneficiary group.
    assert (enrollment.program_type, enrollment.beneficiary_group_id) == ("mentorship", program.beneficiary_group_id)
    assert (enrollment.user_id, enrollment.program_id, enrollment.campaign_id) == (user.id, program.id, campaign.id)
    assert enrollment.enrolled_at == FROZEN
    [audit] = _audits(enrollment, "enrollment.created")
    assert audit.actor_id == operator.id
    assert audit.changes == {
        "user": str(user.id),
        "program": program.program_key,
        "campaign": str(campaign.id),
        "role": "mentee",
        "source_system": "platform",
    }


def test_create_without_campaign_and_with_a_source_system(integrator_api, make_user, buddy_program):
    user = make_user()

    response = integrator_api.post(
        URL,
        {"user_id": str(user.id), "program_id": str(buddy_program.id), "role": "buddy", "source_system": "buddy"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["campaign_id"], body["program_type"], body["role"], body["source_system"]) == (
        None,
        "buddy",
        "buddy",
        "buddy",
    )
    row = Enrollment.objects.get(pk=body["id"])
    assert (row.campaign_id, row.program_type, row.source_system) == (None, "buddy", "buddy")


def test_role_not_in_the_template_answers_400_on_role(operator_api, make_user, program):
    user = make_user()

    response = operator_api.post(
        URL, {"user_id": str(user.id), "program_id": str(program.id), "role": "buddy"}, format="json"
    )

    assert response.status_code == 400
    body = _problem(response)
    assert body["type"] == "/problems/validation-error"
    assert body["errors"] == {"role": "'buddy' is not a role of this program. Roles: mentee, mentor."}
    assert Enrollment.objects.count() == 0


def test_campaign_of_another_program_answers_400_on_campaign_id(
    operator_api, make_user, program, buddy_program, company
):
    user = make_user()
    buddy_campaign = campaign_create(program=buddy_program, company=company, name="Acme Buddies", max_enrollment=5)

    response = operator_api.post(
        URL,
        {
            "user_id": str(user.id),
            "program_id": str(program.id),
            "campaign_id": str(buddy_campaign.id),
            "role": "mentee",
        },
        format="json",
    )

    assert response.status_code == 400
    assert _problem(response)["errors"] == {"campaign_id": "This campaign belongs to another program."}
    assert Enrollment.objects.count() == 0


def test_unknown_user_program_and_campaign_answer_400(operator_api, program):
    missing = str(uuid.uuid4())

    response = operator_api.post(
        URL, {"user_id": missing, "program_id": missing, "campaign_id": missing, "role": "mentee"}, format="json"
    )

    assert response.status_code == 400
    body = _problem(response)
    assert body["status"] == 400
    assert body["errors"] == {
        "user_id": "No user with this id.",
        "program_id": "No program with this id.",
        "campaign_id": "No campaign with this id.",
    }


def test_unknown_user_alone_answers_400_on_user_id(operator_api, program):
    response = operator_api.post(
        URL, {"user_id": str(uuid.uuid4()), "program_id": str(program.id), "role": "mentee"}, format="json"
    )

    assert response.status_code == 400
    assert _problem(response)["errors"] == {"user_id": "No user with this id."}
    assert Enrollment.objects.count() == 0


def test_malformed_body_answers_400_per_field(operator_api):
    response = operator_api.post(URL, {"user_id": "nope", "source_system": "fax"}, format="json")

    assert response.status_code == 400
    assert set(_problem(response)["errors"]) == {"user_id", "program_id", "role", "source_system"}


def test_program_not_active_answers_409(operator_api, make_user, make_program, mentorship_template):
    draft = make_program(mentorship_template, name="Draft mentorship", status="draft")
    user = make_user()

    response = operator_api.post(
        URL, {"user_id": str(user.id), "program_id": str(draft.id), "role": "mentee"}, format="json"
    )

    assert response.status_code == 409
    body = _problem(response)
    assert (body["type"], body["status"]) == ("/problems/conflict", 409)
    assert body["detail"] == "The program 'Draft mentorship' is draft and takes no enrollments."
    assert Enrollment.objects.count() == 0


def test_campaign_not_active_answers_409(operator_api, make_user, program, campaign):
    campaign_update(campaign=campaign, data={"status": "paused"})
    user = make_user()

    response = operator_api.post(
        URL,
        {"user_id": str(user.id), "program_id": str(program.id), "campaign_id": str(campaign.id), "role": "mentee"},
        format="json",
    )

    assert response.status_code == 409
    assert _problem(response)["detail"] == "The campaign 'Acme Mentorship' is paused and takes no enrollments."
    assert Enrollment.objects.count() == 0


def test_duplicate_user_program_role_answers_409(operator_api, make_user, program):
    user = make_user(email="twice@example.org")
    enrollment_create(user=user, program=program, role="mentee")

    response = operator_api.post(
        URL, {"user_id": str(user.id), "program_id": str(program.id), "role": "mentee"}, format="json"
    )

    assert response.status_code == 409
    assert _problem(response)["detail"] == (
        "twice@example.org is already enrolled in 'Mentorship 2026' as mentee (active)."
    )
    assert Enrollment.objects.filter(user=user).count() == 1


def test_same_user_may_take_another_role_in_the_same_program(operator_api, make_user, program):
    user = make_user()
    enrollment_create(user=user, program=program, role="mentee")

    response = operator_api.post(
        URL, {"user_id": str(user.id), "program_id": str(program.id), "role": "mentor"}, format="json"
    )

    assert response.status_code == 201
    assert sorted(Enrollment.objects.filter(user=user).values_list("role", flat=True)) == ["mentee", "mentor"]


def test_full_campaign_answers_409_naming_the_campaign(operator_api, make_user, program, campaign):
    for _ in range(5):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")
    user = make_user()

    response = operator_api.post(
        URL,
        {"user_id": str(user.id), "program_id": str(program.id), "campaign_id": str(campaign.id), "role": "mentee"},
        format="json",
    )

    assert response.status_code == 409
    body = _problem(response)
    assert body["detail"] == "The campaign 'Acme Mentorship' is full: 5 of 5 places are taken."
    assert "'Acme Mentorship' is full" in body["detail"]
    assert Enrollment.objects.filter(campaign=campaign).count() == 5
    assert not Enrollment.objects.filter(user=user).exists()


def test_a_dropped_enrollment_frees_its_place(operator_api, make_user, program, campaign):
    enrollments = [
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee") for _ in "12345"
    ]
    enrollment_set_status(enrollment=enrollments[0], status="dropped")
    user = make_user()

    response = operator_api.post(
        URL,
        {"user_id": str(user.id), "program_id": str(program.id), "campaign_id": str(campaign.id), "role": "mentee"},
        format="json",
    )

    assert response.status_code == 201
    assert Enrollment.objects.filter(campaign=campaign, status__in=["active", "completed"]).count() == 5


def test_idempotency_key_replay_creates_one_row(operator_api, make_user, program, campaign):
    user = make_user()
    payload = {
        "user_id": str(user.id),
        "program_id": str(program.id),
        "campaign_id": str(campaign.id),
        "role": "mentee",
    }

    first = operator_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="enroll-1")
    second = operator_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="enroll-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Enrollment.objects.filter(user=user).count() == 1
    assert len(_audits(Enrollment.objects.get(user=user), "enrollment.created")) == 1

    other = operator_api.post(URL, {**payload, "role": "mentor"}, format="json", HTTP_IDEMPOTENCY_KEY="enroll-1")
    assert other.status_code == 422
    assert _problem(other)["type"] == "/problems/idempotency-key-reused"
    assert Enrollment.objects.filter(user=user).count() == 1


def test_a_failed_request_releases_its_idempotency_key(operator_api, make_user, program):
    user = make_user()
    payload = {"user_id": str(user.id), "program_id": str(program.id), "role": "buddy"}

    failed = operator_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    fixed = operator_api.post(URL, {**payload, "role": "mentee"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert (failed.status_code, fixed.status_code) == (400, 201)
    assert list(Enrollment.objects.values_list("role", flat=True)) == ["mentee"]


# --- PATCH /api/v1/admin/enrollments/{id} -------------------------------------------------------


@pytest.fixture
def enrollment(make_user, program, campaign, frozen):
    return enrollment_create(user=make_user(email="e@example.org"), program=program, campaign=campaign, role="mentee")


def test_active_to_completed_sets_completed_at(operator_api, operator, enrollment, frozen):
    frozen(LATER)

    response = operator_api.patch(f"{URL}/{enrollment.id}", {"status": "completed"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["completed_at"], body["dropped_at"]) == ("completed", "2026-04-15T17:00:00Z", None)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.completed_at) == ("completed", LATER)
    [audit] = _audits(enrollment, "enrollment.status_changed")
    assert audit.actor_id == operator.id
    assert audit.changes["status"] == ["active", "completed"]
    assert audit.changes["completed_at"] == [None, str(LATER)]


def test_active_to_dropped_sets_dropped_at(operator_api, enrollment, frozen):
    frozen(LATER)

    response = operator_api.patch(
        f"{URL}/{enrollment.id}", {"status": "dropped", "reason": "moved away"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["dropped_at"], body["completed_at"], body["reason"]) == (
        "dropped",
        "2026-04-15T17:00:00Z",
        None,
        "moved away",
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.dropped_at, enrollment.reason) == ("dropped", LATER, "moved away")


@pytest.mark.parametrize("target", ["active", "dropped"])
def test_completed_is_final(operator_api, enrollment, target):
    enrollment_set_status(enrollment=enrollment, status="completed")

    response = operator_api.patch(f"{URL}/{enrollment.id}", {"status": target, "reason": "x"}, format="json")

    assert response.status_code == 409
    body = _problem(response)
    assert (body["type"], body["title"], body["status"]) == (
        "/problems/illegal-transition",
        "Illegal status transition",
        409,
    )
    assert body["detail"] == (
        f"An enrollment cannot go from 'completed' to '{target}'. Allowed from 'completed': none (final state)."
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"


def test_reactivation_without_reason_answers_400(operator_api, enrollment):
    enrollment_set_status(enrollment=enrollment, status="dropped")

    response = operator_api.patch(f"{URL}/{enrollment.id}", {"status": "active", "reason": "  "}, format="json")

    assert response.status_code == 400
    assert _problem(response)["errors"] == {"reason": "Reactivating a dropped enrollment needs a reason."}
    enrollment.refresh_from_db()
    assert enrollment.status == "dropped"
    assert _audits(enrollment, "enrollment.reactivated") == []


def test_reactivation_with_reason_is_audited(operator_api, operator, enrollment, frozen):
    enrollment_set_status(enrollment=enrollment, status="dropped")

    response = operator_api.patch(
        f"{URL}/{enrollment.id}", {"status": "active", "reason": "Dropped by mistake"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["dropped_at"], body["reason"]) == ("active", None, "Dropped by mistake")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.dropped_at) == ("active", None)
    [audit] = _audits(enrollment, "enrollment.reactivated")
    assert (audit.actor_id, audit.reason) == (operator.id, "Dropped by mistake")
    assert audit.changes == {
        "status": ["dropped", "active"],
        "reason": ["", "Dropped by mistake"],
        "dropped_at": [str(FROZEN), None],
    }


def test_reactivation_into_a_full_campaign_answers_409(operator_api, make_user, program, campaign, enrollment):
    enrollment_set_status(enrollment=enrollment, status="dropped")
    for _ in range(5):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")

    response = operator_api.patch(f"{URL}/{enrollment.id}", {"status": "active", "reason": "back"}, format="json")

    assert response.status_code == 409
    assert _problem(response)["detail"] == "The campaign 'Acme Mentorship' is full: 5 of 5 places are taken."
    enrollment.refresh_from_db()
    assert enrollment.status == "dropped"


def test_unknown_status_answers_400_and_unknown_enrollment_404(operator_api, enrollment):
    bad = operator_api.patch(f"{URL}/{enrollment.id}", {"status": "paused"}, format="json")
    missing = operator_api.patch(f"{URL}/{uuid.uuid4()}", {"status": "dropped"}, format="json")

    assert bad.status_code == 400
    assert set(_problem(bad)["errors"]) == {"status"}
    assert missing.status_code == 404
    assert _problem(missing)["type"] == "/problems/not-found"


def test_get_one_enrollment(operator_api, enrollment):
    response = operator_api.get(f"{URL}/{enrollment.id}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["role"], body["enrolled_at"]) == (
        str(enrollment.id),
        "active",
        "mentee",
        "2026-03-02T09:30:00Z",
    )


# --- GET /api/v1/admin/enrollments: filters, pagination, query count -----------------------------


@pytest.fixture
def population(make_user, program, buddy_program, campaign, frozen):
    """Four enrollments spread over two programs, one campaign and three statuses."""
    alice, bob = make_user(email="alice@example.org"), make_user(email="bob@example.org")
    frozen(FROZEN)
    a_mentee = enrollment_create(user=alice, program=program, campaign=campaign, role="mentee")
    frozen(FROZEN + timedelta(days=1))
    b_mentee = enrollment_create(user=bob, program=program, role="mentee")
    frozen(FROZEN + timedelta(days=2))
    a_buddy = enrollment_create(user=alice, program=buddy_program, role="participant")
    frozen(FROZEN + timedelta(days=3))
    b_mentor = enrollment_create(user=bob, program=program, campaign=campaign, role="mentor")
    enrollment_set_status(enrollment=b_mentee, status="dropped")
    enrollment_set_status(enrollment=b_mentor, status="completed")
    return {
        "alice": alice,
        "bob": bob,
        "a_mentee": a_mentee,
        "b_mentee": b_mentee,
        "a_buddy": a_buddy,
        "b_mentor": b_mentor,
    }


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_is_newest_first(operator_api, population):
    p = population

    response = operator_api.get(URL)

    assert response.json()["count"] == 4
    assert _ids(response) == [str(p[k].id) for k in ("b_mentor", "a_buddy", "b_mentee", "a_mentee")]


def test_filters(operator_api, population, program, buddy_program, campaign):
    p = population

    def ids(**params) -> set[str]:
        return set(_ids(operator_api.get(URL, params)))

    assert ids(program=program.id) == {str(p["a_mentee"].id), str(p["b_mentee"].id), str(p["b_mentor"].id)}
    assert ids(program=buddy_program.id) == {str(p["a_buddy"].id)}
    assert ids(campaign=campaign.id) == {str(p["a_mentee"].id), str(p["b_mentor"].id)}
    assert ids(status="active") == {str(p["a_mentee"].id), str(p["a_buddy"].id)}
    assert ids(status="dropped") == {str(p["b_mentee"].id)}
    assert ids(status="completed") == {str(p["b_mentor"].id)}
    assert ids(user=p["alice"].id) == {str(p["a_mentee"].id), str(p["a_buddy"].id)}
    assert ids(program_type="buddy") == {str(p["a_buddy"].id)}
    assert ids(program_type="mentorship", status="active") == {str(p["a_mentee"].id)}
    assert ids(user=p["bob"].id, campaign=campaign.id) == {str(p["b_mentor"].id)}
    assert ids(program_type="language") == set()


def test_invalid_filter_value_answers_400(operator_api, population):
    response = operator_api.get(URL, {"status": "paused"})

    assert response.status_code == 400
    assert set(_problem(response)["errors"]) == {"status"}


def test_pagination(operator_api, population):
    p = population
    newest_first = [str(p[k].id) for k in ("b_mentor", "a_buddy", "b_mentee", "a_mentee")]

    first = operator_api.get(URL, {"page_size": 3})
    second = operator_api.get(URL, {"page_size": 3, "page": 2})

    assert (first.json()["count"], first.json()["previous"]) == (4, None)
    assert first.json()["next"] == "http://testserver/api/v1/admin/enrollments?page=2&page_size=3"
    assert _ids(first) == newest_first[:3]
    assert (second.json()["count"], second.json()["next"]) == (4, None)
    assert second.json()["previous"] == "http://testserver/api/v1/admin/enrollments?page_size=3"
    assert _ids(second) == newest_first[3:]


def _list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_costs_a_constant_number_of_queries(operator_api, make_user, program, campaign, writer, client_for):
    writer_client = client_for(writer)
    users = [make_user() for _ in range(10)]
    enrollment_create(user=users[0], program=program, role="mentee")
    enrollment_create(user=users[1], program=program, role="mentee")
    enrollment_create(user=writer, program=program, role="mentee")
    enrollment_create(user=writer, program=program, role="mentor")
    operator_api.get(URL)  # warm caches (content types, token last-used)
    writer_client.get("/api/v1/me/enrollments")
    two_admin = _list_queries(operator_api, URL)
    two_me = _list_queries(writer_client, "/api/v1/me/enrollments")

    for user in users[2:]:
        enrollment_create(user=user, program=program, role="mentee")

    assert operator_api.get(URL).json()["count"] == 12
    assert _list_queries(operator_api, URL) == two_admin
    assert _list_queries(writer_client, "/api/v1/me/enrollments") == two_me


def test_list_query_budget(operator_api, make_user, program, django_assert_max_num_queries):
    for _ in range(10):
        enrollment_create(user=make_user(), program=program, role="mentee")
    operator_api.get(URL)

    with django_assert_max_num_queries(6):
        response = operator_api.get(URL)

    assert response.json()["count"] == 10


# --- Permissions and /me ------------------------------------------------------------------------


def test_me_enrollments_lists_only_the_callers(writer, writer_api, make_user, program, buddy_program, frozen):
    other = make_user(email="someone-else@example.org")
    frozen(FROZEN)
    mine = enrollment_create(user=writer, program=program, role="mentee")
    frozen(FROZEN + timedelta(hours=1))
    mine_too = enrollment_create(user=writer, program=buddy_program, role="participant")
    theirs = enrollment_create(user=other, program=program, role="mentee")

    response = writer_api.get("/api/v1/me/enrollments")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(r["id"], r["user_id"], r["program_key"], r["program_name"]) for r in body["results"]] == [
        (str(mine_too.id), str(writer.id), buddy_program.program_key, "Buddy Berlin"),
        (str(mine.id), str(writer.id), program.program_key, "Mentorship 2026"),
    ]
    assert str(theirs.id) not in {r["id"] for r in body["results"]}


def test_another_users_enrollment_answers_404_like_a_missing_one(writer, writer_api, make_user, program):
    mine = enrollment_create(user=writer, program=program, role="mentee")
    theirs = enrollment_create(user=make_user(email="someone-else@example.org"), program=program, role="mentee")

    own = writer_api.get(f"/api/v1/me/enrollments/{mine.id}")
    other = writer_api.get(f"/api/v1/me/enrollments/{theirs.id}")
    missing = writer_api.get("/api/v1/me/enrollments/00000000-0000-0000-0000-000000000000")

    assert own.status_code == 200
    assert (own.json()["id"], own.json()["program_key"]) == (str(mine.id), program.program_key)
    assert other.status_code == missing.status_code == 404
    assert _problem(other) == _problem(missing)


def test_me_enrollments_filter_by_status(writer, writer_api, program, buddy_program):
    enrollment_create(user=writer, program=program, role="mentee")
    dropped = enrollment_create(user=writer, program=buddy_program, role="participant")
    enrollment_set_status(enrollment=dropped, status="dropped")

    response = writer_api.get("/api/v1/me/enrollments", {"status": "dropped"})

    assert [r["id"] for r in response.json()["results"]] == [str(dropped.id)]


def test_writer_gets_403_on_admin_enrollments(writer, writer_api, program):
    own = enrollment_create(user=writer, program=program, role="mentee")

    detail = writer_api.get(f"{URL}/{own.id}")
    listing = writer_api.get(URL)
    create = writer_api.post(URL, {"user_id": str(writer.id), "program_id": str(program.id), "role": "mentor"})
    patch = writer_api.patch(f"{URL}/{own.id}", {"status": "dropped"}, format="json")

    for response in (detail, listing, create, patch):
        assert response.status_code == 403
        assert _problem(response)["type"] == "/problems/permission-denied"
    own.refresh_from_db()
    assert own.status == "active"
    assert Enrollment.objects.count() == 1


def test_anonymous_gets_401(anon_api, make_user, program):
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")

    for response in (
        anon_api.get(f"{URL}/{enrollment.id}"),
        anon_api.get(URL),
        anon_api.get("/api/v1/me/enrollments"),
    ):
        assert response.status_code == 401
        body = _problem(response)
        assert (body["type"], body["status"]) == ("/problems/not-authenticated", 401)
        assert response["WWW-Authenticate"] == "Token"


# --- Campaign capacity --------------------------------------------------------------------------


def test_max_enrollment_cannot_drop_below_current_enrollments(operator_api, make_user, program, campaign):
    for _ in range(4):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")

    too_low = operator_api.patch(f"/api/v1/admin/campaigns/{campaign.id}", {"max_enrollment": 3}, format="json")
    exact = operator_api.patch(f"/api/v1/admin/campaigns/{campaign.id}", {"max_enrollment": 4}, format="json")

    assert too_low.status_code == 409
    assert _problem(too_low)["detail"] == (
        "The campaign already holds 4 enrollments; the maximum cannot be lowered to 3."
    )
    assert exact.status_code == 200
    assert exact.json()["max_enrollment"] == 4
    campaign.refresh_from_db()
    assert campaign.max_enrollment == 4


def test_campaign_capacity_endpoint(operator_api, make_user, program, campaign):
    for _ in range(2):
        enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")
    dropped = enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")
    enrollment_set_status(enrollment=dropped, status="dropped")

    response = operator_api.get(f"/api/v1/admin/campaigns/{campaign.id}/capacity")

    assert response.status_code == 200
    assert response.json() == {
        "campaign_id": str(campaign.id),
        "target_enrollment": 3,
        "max_enrollment": 5,
        "enrolled": 2,
        "available": 3,
    }
