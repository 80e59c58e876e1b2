"""Operator API of campaigns: /api/v1/admin/campaigns."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import company_create
from core.models import AuditEntry
from enrollments.services import enrollment_create, enrollment_set_status
from programs.models import Campaign
from programs.services import campaign_create

URL = "/api/v1/admin/campaigns"
PROBLEM = "application/problem+json"


def _problem(response, status, slug, title):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["title"], body["status"]) == (f"/problems/{slug}", title, status)
    return body


def _audits(obj, action):
    return list(
        AuditEntry.objects.filter(target_id=str(obj.pk), action=action)
        .order_by("created_at")
        .values_list("changes", flat=True)
    )


@pytest.fixture
def tuned_program(make_program, mentorship_template):
    return make_program(
        mentorship_template,
        config_overrides={"session": {"default_duration_minutes": 90}, "matching": {"weights": {"skills": 0.5}}},
    )


@pytest.fixture
def create_campaign(operator_api, tuned_program, company):
    def _create(**fields):
        body = {
            "program_id": str(tuned_program.pk),
            "company_id": str(company.pk),
            "name": "Acme Mentorship",
            "target_enrollment": 3,
            "max_enrollment": 5,
        }
        body.update(fields)
        return operator_api.post(URL, body, format="json")

    return _create


# --- Create -------------------------------------------------------------------------------------


def test_create_merges_campaign_overrides_into_the_program_config(create_campaign, tuned_program, company, operator):
    overrides = {"session": {"max_sessions": 6}, "matching": {"weights": {"goals": 0.4}}}

    response = create_campaign(
        config_overrides=overrides,
        budget_amount="12500.50",
        budget_currency="eur",
        starts_on="2026-03-01",
        ends_on="2026-09-30",
    )

    assert response.status_code == 201, response.content
    campaign = Campaign.objects.get()
    expected = copy.deepcopy(tuned_program.config)
    expected["session"]["max_sessions"] = 6
    expected["matching"]["weights"]["goals"] = 0.4
    body = response.json()
    assert body == {
        "id": str(campaign.pk),
        "program_id": str(tuned_program.pk),
        "company_id": str(company.pk),
        "name": "Acme Mentorship",
        "target_enrollment": 3,
        "max_enrollment": 5,
        "budget_amount": "12500.50",
        "budget_currency": "EUR",
        "config_overrides": overrides,
        "config": expected,
        "status": "active",
        "starts_on": "2026-03-01",
        "ends_on": "2026-09-30",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    # Program overrides survive under the campaign's: three layers, merged key by key.
    assert body["config"]["session"]["default_duration_minutes"] == 90
    assert body["config"]["matching"]["weights"]["skills"] == 0.5
    assert body["config"]["matching"]["weights"]["language"] == 0.3
    assert (campaign.config, campaign.budget_amount) == (expected, Decimal("12500.50"))
    entry = AuditEntry.objects.get(target_id=str(campaign.pk), action="campaign.created")
    assert (entry.actor, entry.changes) == (
        operator,
        {"program": "mentorship-2026", "company": "acme", "max_enrollment": 5, "target_enrollment": 3},
    )


def test_create_as_draft(create_campaign):
    assert create_campaign(status="draft").json()["status"] == "draft"


def test_create_in_another_status_is_a_400(create_campaign):
    body = _problem(create_campaign(status="completed"), 400, "validation-error", "Invalid input")
    assert body["errors"] == {"status": '"completed" is not a valid choice.'}
    assert not Campaign.objects.exists()


def test_max_below_target_is_a_400(create_campaign):
    body = _problem(create_campaign(target_enrollment=5, max_enrollment=2), 400, "validation-error", "Invalid input")
    assert body["errors"] == {"max_enrollment": "The maximum (2) must be at least the target (5)."}
    assert not Campaign.objects.exists()


def test_max_equal_to_target_is_fine(create_campaign):
    assert create_campaign(target_enrollment=5, max_enrollment=5).status_code == 201


def test_unknown_currency_is_a_400(create_campaign):
    response = create_campaign(budget_amount="100.00", budget_currency="XYZ")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"budget_currency": "'XYZ' is not an ISO 4217 currency code (e.g. EUR, USD)."}
    assert not Campaign.objects.exists()


def test_budget_without_currency_is_a_400(create_campaign):
    body = _problem(create_campaign(budget_amount="100.00"), 400, "validation-error", "Invalid input")
    assert body["errors"] == {"budget_currency": "A budget needs an ISO 4217 currency."}


def test_negative_budget_is_a_400(create_campaign):
    body = _problem(
        create_campaign(budget_amount="-1.00", budget_currency="EUR"), 400, "validation-error", "Invalid input"
    )
    assert body["errors"] == {"budget_amount": "Ensure this value is greater than or equal to 0."}


def test_ends_before_it_starts_is_a_400(create_campaign):
    response = create_campaign(starts_on="2026-05-01", ends_on="2026-04-30")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"ends_on": "A campaign cannot end before it starts."}


def test_one_day_campaign_is_fine(create_campaign):
    assert create_campaign(starts_on="2026-05-01", ends_on="2026-05-01").status_code == 201


def test_invalid_campaign_override_names_the_path(create_campaign):
    response = create_campaign(config_overrides={"session": {"default_duration_minutes": 1000}, "x": 1})

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {
        "config_overrides/session/default_duration_minutes": "1000 is greater than the maximum of 480",
        "config_overrides/x": "Unknown setting.",
    }
    assert not Campaign.objects.exists()


def test_unknown_program_and_company(create_campaign):
    body = _problem(
        create_campaign(program_id=str(uuid.uuid4()), company_id=str(uuid.uuid4())),
        400,
        "validation-error",
        "Invalid input",
    )
    assert body["errors"] == {"program_id": "No program with this id.", "company_id": "No company with this id."}


def test_closed_program_takes_no_new_campaigns(operator_api, make_program, mentorship_template, company):
    program = make_program(mentorship_template, status="closed")

    response = operator_api.post(
        URL,
        {"program_id": str(program.pk), "company_id": str(company.pk), "name": "Late", "max_enrollment": 3},
        format="json",
    )

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == "The program 'Mentorship 2026' is closed; it takes no new campaigns."


def test_create_idempotency(operator_api, tuned_program, company):
    body = {"program_id": str(tuned_program.pk), "company_id": str(company.pk), "name": "A", "max_enrollment": 5}

    first = operator_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    again = operator_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    other = operator_api.post(URL, {**body, "max_enrollment": 6}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    _problem(other, 422, "idempotency-key-reused", "Idempotency-Key reused")
    assert Campaign.objects.count() == 1


def test_writer_and_anonymous_get_problem_details(writer_api, anon_api, campaign):
    _problem(writer_api.get(URL), 403, "permission-denied", "Permission denied")
    _problem(anon_api.get(f"{URL}/{campaign.pk}"), 401, "not-authenticated", "Authentication required")
    _problem(
        writer_api.patch(f"{URL}/{campaign.pk}", {"status": "paused"}, format="json"),
        403,
        "permission-denied",
        "Permission denied",
    )
    campaign.refresh_from_db()
    assert campaign.status == "active"


# --- PATCH: status ------------------------------------------------------------------------------


def test_status_walk_active_paused_active_completed(operator_api, campaign, operator):
    statuses = []
    for target in ("paused", "active", "completed"):
        response = operator_api.patch(f"{URL}/{campaign.pk}", {"status": target, "reason": "plan"}, format="json")
        assert response.status_code == 200, response.content
        statuses.append(response.json()["status"])

    assert statuses == ["paused", "active", "completed"]
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    assert _audits(campaign, "campaign.status_changed") == [
        {"status": ["active", "paused"]},
        {"status": ["paused", "active"]},
        {"status": ["active", "completed"]},
    ]
    entries = AuditEntry.objects.filter(target_id=str(campaign.pk), action="campaign.status_changed")
    assert {(e.actor_id, e.reason) for e in entries} == {(operator.pk, "plan")}


@pytest.mark.parametrize("target", ["active", "paused", "cancelled", "draft"])
def test_completed_is_final(operator_api, campaign, target):
    operator_api.patch(f"{URL}/{campaign.pk}", {"status": "completed"}, format="json")

    response = operator_api.patch(f"{URL}/{campaign.pk}", {"status": target}, format="json")

    body = _problem(response, 409, "illegal-transition", "Illegal status transition")
    assert body["detail"] == (
        f"A campaign cannot go from 'completed' to '{target}'. Allowed from 'completed': none (final state)."
    )
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_draft_campaign_activates_but_cannot_pause(operator_api, create_campaign):
    campaign_id = create_campaign(status="draft").json()["id"]

    paused = operator_api.patch(f"{URL}/{campaign_id}", {"status": "paused"}, format="json")
    active = operator_api.patch(f"{URL}/{campaign_id}", {"status": "active"}, format="json")

    body = _problem(paused, 409, "illegal-transition", "Illegal status transition")
    assert body["detail"] == "A campaign cannot go from 'draft' to 'paused'. Allowed from 'draft': active, cancelled."
    assert (active.status_code, active.json()["status"]) == (200, "active")


def test_illegal_transition_saves_no_other_field_either(operator_api, campaign):
    operator_api.patch(f"{URL}/{campaign.pk}", {"status": "completed"}, format="json")

    response = operator_api.patch(f"{URL}/{campaign.pk}", {"name": "Renamed", "status": "active"}, format="json")

    assert response.status_code == 409
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Acme Mentorship", "completed")
    assert _audits(campaign, "campaign.updated") == []


# --- PATCH: fields ------------------------------------------------------------------------------


@pytest.fixture
def three_enrolled(campaign, make_user):
    enrollments = [
        enrollment_create(user=make_user(), program=campaign.program, campaign=campaign, role="mentee")
        for _ in range(3)
    ]
    return enrollments


def test_max_enrollment_cannot_drop_below_the_enrollments_held(operator_api, campaign, three_enrolled):
    response = operator_api.patch(f"{URL}/{campaign.pk}", {"max_enrollment": 2, "target_enrollment": 2}, format="json")

    body = _problem(response, 409, "conflict", "Conflict with the current state")
    assert body["detail"] == "The campaign already holds 3 enrollments; the maximum cannot be lowered to 2."
    campaign.refresh_from_db()
    assert (campaign.max_enrollment, campaign.target_enrollment) == (5, 3)


def test_max_enrollment_may_drop_to_the_enrollments_held(operator_api, campaign, three_enrolled, operator):
    response = operator_api.patch(f"{URL}/{campaign.pk}", {"max_enrollment": 3}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["max_enrollment"] == 3
    assert _audits(campaign, "campaign.updated") == [{"max_enrollment": [5, 3]}]


def test_dropped_enrollments_free_their_place_for_a_lower_maximum(operator_api, campaign, three_enrolled):
    enrollment_set_status(enrollment=three_enrolled[0], status="dropped")

    response = operator_api.patch(f"{URL}/{campaign.pk}", {"max_enrollment": 2, "target_enrollment": 2}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["max_enrollment"], response.json()["target_enrollment"]) == (2, 2)


def test_patch_max_below_target_is_a_400(operator_api, campaign):
    response = operator_api.patch(f"{URL}/{campaign.pk}", {"max_enrollment": 2}, format="json")

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"max_enrollment": "The maximum (2) must be at least the target (3)."}


def test_patch_config_overrides_rederives_the_campaign_config(operator_api, campaign):
    program_config = campaign.program.config

    response = operator_api.patch(
        f"{URL}/{campaign.pk}", {"config_overrides": {"completion": {"duration_weeks": 8}}}, format="json"
    )

    assert response.status_code == 200, response.content
    expected = copy.deepcopy(program_config)
    expected["completion"]["duration_weeks"] = 8
    assert response.json()["config"] == expected
    campaign.refresh_from_db()
    assert campaign.config == expected


def test_patch_invalid_override_saves_nothing(operator_api, campaign):
    config_before = campaign.config

    response = operator_api.patch(
        f"{URL}/{campaign.pk}",
        {"name": "New", "config_overrides": {"completion": {"duration_weeks": 0}}},
        format="json",
    )

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"config_overrides/completion/duration_weeks": "0 is less than the minimum of 1"}
    campaign.refresh_from_db()
    assert (campaign.name, campaign.config_overrides, campaign.config) == ("Acme Mentorship", {}, config_before)


def test_patch_currency_without_a_valid_code(operator_api, campaign):
    response = operator_api.patch(
        f"{URL}/{campaign.pk}", {"budget_amount": "10.00", "budget_currency": "XYZ"}, format="json"
    )

    body = _problem(response, 400, "validation-error", "Invalid input")
    assert body["errors"] == {"budget_currency": "'XYZ' is not an ISO 4217 currency code (e.g. EUR, USD)."}


# --- List ---------------------------------------------------------------------------------------


def test_list_filters_by_program_company_and_status(operator_api, program, make_program, builtin_templates, company):
    globex = company_create(key="globex", name="Globex")
    other_program = make_program(builtin_templates["buddy-standard"], name="Buddy 2026")
    a = campaign_create(program=program, company=company, name="A", max_enrollment=5)
    b = campaign_create(program=program, company=globex, name="B", max_enrollment=5, status="draft")
    c = campaign_create(program=other_program, company=company, name="C", max_enrollment=5)

    def ids(**params):
        response = operator_api.get(URL, params)
        assert response.status_code == 200
        return [r["id"] for r in response.json()["results"]]

    assert ids() == [str(c.pk), str(a.pk), str(b.pk)]
    assert ids(program=str(program.pk)) == [str(a.pk), str(b.pk)]
    assert ids(company=str(company.pk)) == [str(c.pk), str(a.pk)]
    assert ids(status="draft") == [str(b.pk)]
    assert ids(program=str(program.pk), company=str(company.pk), status="active") == [str(a.pk)]
    assert ids(program=str(uuid.uuid4())) == []


def test_retrieve_campaign(operator_api, campaign):
    response = operator_api.get(f"{URL}/{campaign.pk}")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["max_enrollment"]) == (str(campaign.pk), 5)
    missing = operator_api.get(f"{URL}/{uuid.uuid4()}")
    assert _problem(missing, 404, "not-found", "Not found")["detail"] == "No Campaign matches the given query."


def test_list_costs_a_constant_number_of_queries(operator_api, program, company, django_assert_max_num_queries):
    for n in range(2):
        campaign_create(program=program, company=company, name=f"C{n}", max_enrollment=5)
    operator_api.get(URL)  # warm up: the token's last use is recorded once

    with CaptureQueriesContext(connection) as two:
        assert operator_api.get(URL).json()["count"] == 2
    for n in range(2, 12):
        other = company_create(key=f"company-{n}", name=f"Company {n}")
        campaign_create(program=program, company=other, name=f"C{n}", max_enrollment=5)
    with django_assert_max_num_queries(len(two.captured_queries)):
        body = operator_api.get(URL).json()

    assert body["count"] == 12
