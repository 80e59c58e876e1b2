"""The operators' admin: every page answers, saves and actions go through the services (state
change + audit row), domain errors become messages (never a 500), and the audit trail and
enrollment counts are shown."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import ApiToken, Company, CompanyMembership, ExternalIdentity
from accounts.services import company_add_member, external_identity_link
from core.models import AuditEntry, IdempotencyRecord
from enrollments.models import Enrollment, JourneyFlags
from enrollments.services import enrollment_create, enrollment_set_status
from programs.models import BeneficiaryGroup, Campaign, Program
from programs.services import campaign_create
from templates_app.models import ProgramTemplate
from templates_app.services import template_new_version

ADMIN_EMAIL = "admin@example.com"  # pytest-django's `admin_user`


# --- helpers ------------------------------------------------------------------------------------


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def run_action(client, model, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in objects], **extra}
    return client.post(url(model, "changelist"), data, follow=True)


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def audit_rows(html: str) -> list[tuple[str, str, str]]:
    """(who, action, reason) of each row of the object's audit trail table."""
    match = re.search(r'<table class="audit-trail">(.*?)</table>', html, re.S)
    assert match, "no audit trail table on the page"
    rows = re.findall(
        r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td><code>.*?</code></td><td>([^<]*)</td></tr>",
        match.group(1),
        re.S,
    )
    return [tuple(unescape(cell) for cell in row) for row in rows]


def changelist_cells(html: str, column_class: str) -> list[str]:
    return [unescape(c).strip() for c in re.findall(rf'<td class="field-{column_class}">(.*?)</td>', html, re.S)]


def actions_offered(html: str) -> set[str]:
    select = re.search(r'<select name="action"[^>]*>(.*?)</select>', html, re.S)
    return set(re.findall(r'<option value="([^"]+)"', select.group(1))) if select else set()


def add_form_data(client, model, **fields) -> dict:
    """POST data for an admin add form: the given fields plus the inlines' empty management forms."""
    response = client.get(url(model, "add"))
    assert response.status_code == 200
    data = dict(fields)
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return data


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def mentee(make_user):
    return make_user(email="mentee@example.org", full_name="Mona Mentee")


@pytest.fixture
def enrollment(campaign, mentee):
    return enrollment_create(user=mentee, program=campaign.program, campaign=campaign, role="mentee")


@pytest.fixture
def world(enrollment, campaign, company, mentee, operator, client_for):
    """At least one row for every registered model, each made through the product's own paths."""
    company_add_member(company=company, user=mentee)
    external_identity_link(user=mentee, provider="kintell", external_id="k-123")
    client_for(mentee)  # an API token
    template_new_version(template=campaign.program.template)  # a draft template
    response = client_for(operator).post(
        "/api/v1/admin/companies",
        {"key": "globex", "name": "Globex"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="admin-test-1",
    )
    assert response.status_code == 201, response.content
    return {"enrollment": enrollment, "campaign": campaign}


@pytest.fixture
def operator_with_perms(make_user):
    """A staff user without a role, holding only the given Django model permissions."""

    def _make(*codenames: str):
        user = make_user(email="operator.perms@example.org", is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return type(user).objects.get(pk=user.pk)  # fresh: no permission cache

    return _make


# --- every page answers ------------------------------------------------------------------------

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_every_registered_model_changelist_add_and_change_pages_answer(admin_client, admin_user, world, model):
    model_admin = admin.site._registry[model]
    response = admin_client.get(url(model, "changelist"))
    assert response.status_code == 200

    can_add = model_admin.has_add_permission(response.wsgi_request)
    response = admin_client.get(url(model, "add"))
    assert response.status_code == (200 if can_add else 403)

    obj = model._default_manager.first()
    if obj is not None:
        response = admin_client.get(url(model, "change", obj.pk))
        assert response.status_code == 200


def test_every_domain_model_has_rows_in_the_smoke_test(admin_client, world):
    for model in (
        ProgramTemplate,
        Program,
        Campaign,
        BeneficiaryGroup,
        Enrollment,
        JourneyFlags,
        Company,
        CompanyMembership,
        ExternalIdentity,
        ApiToken,
        AuditEntry,
        IdempotencyRecord,
    ):
        assert model.objects.exists(), model


def test_changelist_search_and_filters_answer(admin_client, world):
    assert admin_client.get(url(Program, "changelist"), {"q": "Mentorship"}).status_code == 200
    response = admin_client.get(url(Enrollment, "changelist"), {"status__exact": "active", "q": "mentee@"})
    assert response.status_code == 200
    assert changelist_cells(response.content.decode(), "status") == ["Active"]
    response = admin_client.get(url(ProgramTemplate, "changelist"), {"status__exact": "draft"})
    assert changelist_cells(response.content.decode(), "template_key") == ["mentorship-standard"]


@pytest.mark.parametrize(
    ("name", "expected_actions"),
    [
        ("template", ["template.published", "template.created"]),
        ("program", ["program.status_changed", "program.created"]),
        ("campaign", ["campaign.created"]),
        ("enrollment", ["enrollment.created"]),
    ],
)
def test_change_page_shows_the_audit_trail(admin_client, admin_user, enrollment, campaign, name, expected_actions):
    from programs.services import program_set_status

    program = campaign.program
    program_set_status(program=program, status="paused", actor=admin_user, reason="holiday break")
    objects = {"template": program.template, "program": program, "campaign": campaign, "enrollment": enrollment}
    obj = objects[name]
    response = admin_client.get(url(type(obj), "change", obj.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Audit trail" in html
    rows = audit_rows(html)
    if name == "program":
        expected = [(ADMIN_EMAIL, "program.status_changed", "holiday break")]
        expected += [("system", a, "") for a in ["program.status_changed", "program.created"]]
        assert rows == expected
    else:
        assert [action for _, action, _ in rows] == expected_actions
        assert {who for who, _, _ in rows} == {"system"}


def test_template_change_page_pretty_prints_config(admin_client, mentorship_template):
    response = admin_client.get(url(ProgramTemplate, "change", mentorship_template.pk))
    html = unescape(response.content.decode())
    assert '<pre class="readonly-json">' in html
    assert '"default_duration_minutes": 60' in html


def test_program_change_page_shows_campaign_inline(admin_client, campaign):
    response = admin_client.get(url(Program, "change", campaign.program.pk))
    assert response.status_code == 200
    assert "Acme Mentorship" in response.content.decode()


# --- actions call the services ------------------------------------------------------------------


def test_program_activate_and_pause_actions(admin_client, make_program, mentorship_template):
    program = make_program(mentorship_template, name="Draft Mentoring", status="draft")

    response = run_action(admin_client, Program, "activate", [program])
    assert message_texts(response) == ["Activated 1 program(s)."]
    program.refresh_from_db()
    assert program.status == "active"

    response = run_action(admin_client, Program, "pause", [program])
    assert message_texts(response) == ["Paused 1 program(s)."]
    program.refresh_from_db()
    assert program.status == "paused"

    entries = AuditEntry.objects.filter(target_id=str(program.pk), actor_label=ADMIN_EMAIL).order_by("created_at")
    assert [(e.action, e.changes, e.reason) for e in entries] == [
        ("program.status_changed", {"status": ["draft", "active"]}, "admin action"),
        ("program.status_changed", {"status": ["active", "paused"]}, "admin action"),
    ]


def test_illegal_program_transition_is_reported_not_applied(admin_client, make_program, mentorship_template):
    program = make_program(mentorship_template, name="Draft Mentoring", status="draft")
    response = run_action(admin_client, Program, "pause", [program])
    assert response.status_code == 200
    assert message_texts(response) == [
        "Draft Mentoring: A program cannot go from 'draft' to 'paused'. Allowed from 'draft': active, archived."
    ]
    program.refresh_from_db()
    assert program.status == "draft"
    assert not AuditEntry.objects.filter(target_id=str(program.pk), action="program.status_changed").exists()


def test_campaign_pause_action(admin_client, campaign):
    response = run_action(admin_client, Campaign, "pause", [campaign])
    assert message_texts(response) == ["Paused 1 campaign(s)."]
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    entry = AuditEntry.objects.get(target_id=str(campaign.pk), action="campaign.status_changed")
    assert entry.changes == {"status": ["active", "paused"]}
    assert entry.actor_label == ADMIN_EMAIL


def test_enrollment_complete_action(admin_client, enrollment):
    response = run_action(admin_client, Enrollment, "complete", [enrollment], reason="finished all sessions")
    assert message_texts(response) == ["Completed 1 enrollment(s)."]
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    assert enrollment.completed_at is not None
    assert enrollment.reason == "finished all sessions"
    entry = AuditEntry.objects.get(target_id=str(enrollment.pk), action="enrollment.status_changed")
    assert entry.changes["status"] == ["active", "completed"]
    assert entry.reason == "finished all sessions"
    assert entry.actor_label == ADMIN_EMAIL


def test_enrollment_drop_then_reactivate_needs_a_reason(admin_client, enrollment):
    response = run_action(admin_client, Enrollment, "drop", [enrollment], reason="moved away")
    assert message_texts(response) == ["Dropped 1 enrollment(s)."]
    enrollment.refresh_from_db()
    assert enrollment.status == "dropped"
    assert enrollment.dropped_at is not None

    response = run_action(admin_client, Enrollment, "reactivate", [enrollment], reason="")
    assert response.status_code == 200
    assert message_texts(response) == [
        f"{enrollment}: The request has invalid fields. reason: Reactivating a dropped enrollment needs a reason."
    ]
    enrollment.refresh_from_db()
    assert enrollment.status == "dropped"
    assert not AuditEntry.objects.filter(target_id=str(enrollment.pk), action="enrollment.reactivated").exists()

    response = run_action(admin_client, Enrollment, "reactivate", [enrollment], reason="came back after the move")
    assert message_texts(response) == ["Reactivated 1 enrollment(s)."]
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    assert enrollment.dropped_at is None
    entry = AuditEntry.objects.get(target_id=str(enrollment.pk), action="enrollment.reactivated")
    assert entry.reason == "came back after the move"
    assert entry.changes["status"] == ["dropped", "active"]


def test_enrollment_changelist_offers_the_reason_field(admin_client, enrollment):
    html = admin_client.get(url(Enrollment, "changelist")).content.decode()
    assert 'name="reason"' in html
    assert actions_offered(html) >= {"complete", "drop", "reactivate"}


def test_template_publish_and_new_version_actions(admin_client, mentorship_template):
    response = run_action(admin_client, ProgramTemplate, "new_version", [mentorship_template])
    assert message_texts(response) == ["Created 1 new draft version(s)."]
    draft = ProgramTemplate.objects.get(template_key="mentorship-standard", version=2)
    assert draft.status == "draft"
    assert draft.default_config == mentorship_template.default_config
    created = AuditEntry.objects.get(target_id=str(draft.pk), action="template.version_created")
    assert created.changes == {"from_version": 1, "version": 2}
    assert created.actor_label == ADMIN_EMAIL

    # A second new version while v2 is a draft is refused with the service's message.
    response = run_action(admin_client, ProgramTemplate, "new_version", [mentorship_template])
    assert message_texts(response) == [
        f"{mentorship_template}: Version 2 of 'mentorship-standard' is still a draft; "
        "edit or publish it before starting another version."
    ]
    assert ProgramTemplate.objects.filter(template_key="mentorship-standard").count() == 2

    response = run_action(admin_client, ProgramTemplate, "publish_deprecating_previous", [draft])
    assert message_texts(response) == ["Published 1 template(s); previous versions deprecated."]
    draft.refresh_from_db()
    mentorship_template.refresh_from_db()
    assert draft.status == "active"
    assert mentorship_template.status == "deprecated"
    assert mentorship_template.deprecated_by_id == draft.pk
    assert AuditEntry.objects.filter(target_id=str(draft.pk), action="template.published").count() == 1


def test_api_token_revoke_action_makes_the_token_fail(admin_client, mentee, client_for):
    api = client_for(mentee)
    assert api.get("/api/v1/me").status_code == 200
    token = ApiToken.objects.get(user=mentee)

    response = run_action(admin_client, ApiToken, "revoke", [token])
    assert message_texts(response) == ["Revoked 1 token(s)."]
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.get(action="api_token.revoked", target_id=str(mentee.pk))
    assert entry.changes == {"prefix": token.prefix}
    assert entry.actor_label == ADMIN_EMAIL

    response = api.get("/api/v1/me")
    assert response.status_code == 401


def test_issue_token_action_shows_the_key_once(admin_client, mentee):
    response = run_action(admin_client, type(mentee), "issue_token", [mentee])
    (text,) = message_texts(response)
    assert text.startswith("Token for mentee@example.org (copy it now, it is not shown again): ")
    key = text.rsplit(" ", 1)[1]
    token = ApiToken.objects.get(user=mentee)
    assert key.startswith(token.prefix)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me").json()["email"] == "mentee@example.org"


# --- add forms go through the services ----------------------------------------------------------


def program_form(client, template, group, **overrides) -> dict:
    fields = {
        "template": str(template.pk),
        "program_key": "",
        "name": "Career Mentoring Berlin",
        "description": "Mentors from the tech industry.",
        "beneficiary_group": str(group.pk),
        "config_overrides": json.dumps({"session": {"default_duration_minutes": 90}}),
        "tags": json.dumps(["Career", "tech"]),
        "sdg_goals": json.dumps([8, 4]),
        "timezone": "Europe/Berlin",
        "opens_at_0": "",
        "opens_at_1": "",
        "closes_at_0": "2030-01-15",
        "closes_at_1": "12:00:00",
    }
    return add_form_data(client, Program, **(fields | overrides))


def test_program_add_form_goes_through_the_service(admin_client, mentorship_template, group):
    response = admin_client.post(url(Program, "add"), program_form(admin_client, mentorship_template, group))
    assert response.status_code == 302, response.context["adminform"].form.errors
    program = Program.objects.get()
    assert program.program_key == "career-mentoring-berlin"
    assert program.status == "draft"
    assert program.program_type == "mentorship"
    assert program.config_overrides == {"session": {"default_duration_minutes": 90}}
    assert program.config["session"] == {
        "default_duration_minutes": 90,
        "recommended_frequency": "biweekly",
        "max_sessions": 12,
        "online": True,
    }
    assert program.config["completion"] == mentorship_template.default_config["completion"]
    assert program.tags == ["career", "tech"]
    assert program.sdg_goals == [4, 8]
    entry = AuditEntry.objects.get(action="program.created", target_id=str(program.pk))
    assert entry.actor_label == ADMIN_EMAIL
    assert entry.changes == {
        "program_key": "career-mentoring-berlin",
        "template": "mentorship-standard v1",
        "config_overrides": {"session": {"default_duration_minutes": 90}},
    }


def test_program_add_form_rejects_invalid_config_overrides(admin_client, mentorship_template, group):
    data = program_form(
        admin_client,
        mentorship_template,
        group,
        config_overrides=json.dumps({"session": {"default_duration_minutes": 5}}),
    )
    response = admin_client.post(url(Program, "add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["config_overrides"]
    assert errors["config_overrides"][0].startswith("config_overrides/session/default_duration_minutes: ")
    assert "config_overrides/session/default_duration_minutes" in response.content.decode()
    assert not Program.objects.exists()
    assert not AuditEntry.objects.filter(action="program.created").exists()


def test_program_add_form_rejects_a_window_that_closes_before_it_opens(admin_client, mentorship_template, group):
    data = program_form(admin_client, mentorship_template, group, opens_at_0="2030-02-01", opens_at_1="00:00:00")
    response = admin_client.post(url(Program, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Program.objects.exists()


def test_program_change_form_goes_through_the_service(admin_client, program):
    response = admin_client.get(url(Program, "change", program.pk))
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for name in ("opens_at", "closes_at"):
        data.pop(name)
        data |= {f"{name}_0": "", f"{name}_1": ""}
    for name in ("config_overrides", "tags", "sdg_goals"):
        data[name] = json.dumps(json.loads(data[name]))
    data["beneficiary_group"] = str(program.beneficiary_group_id)
    data["name"] = "Mentorship 2026 (renamed)"
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management[f].html_name: management[f].value() for f in management.fields}
        for i, campaign_form in enumerate(inline.formset.forms):
            data[f"{inline.formset.prefix}-{i}-id"] = str(campaign_form.instance.pk)
            data[f"{inline.formset.prefix}-{i}-program"] = str(program.pk)
    response = admin_client.post(url(Program, "change", program.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    program.refresh_from_db()
    assert program.name == "Mentorship 2026 (renamed)"
    entry = AuditEntry.objects.get(action="program.updated", target_id=str(program.pk))
    assert entry.changes == {"name": ["Mentorship 2026", "Mentorship 2026 (renamed)"]}


def test_enrollment_add_form_into_a_full_campaign_shows_an_error(admin_client, program, company, make_user):
    small = campaign_create(program=program, company=company, name="Tiny cohort", max_enrollment=2)
    for n in range(2):
        enrollment_create(user=make_user(email=f"m{n}@example.org"), program=program, campaign=small, role="mentee")
    late = make_user(email="late@example.org")
    data = add_form_data(
        admin_client,
        Enrollment,
        user=str(late.pk),
        program=str(program.pk),
        campaign=str(small.pk),
        role="mentee",
        source_system="platform",
    )
    response = admin_client.post(url(Enrollment, "add"), data, follow=True)
    assert response.status_code == 200
    assert message_texts(response) == ["The campaign 'Tiny cohort' is full: 2 of 2 places are taken."]
    assert "is full: 2 of 2 places are taken." in response.content.decode()
    assert not Enrollment.objects.filter(user=late).exists()
    assert Enrollment.objects.filter(campaign=small).count() == 2
    assert not AuditEntry.objects.filter(action="enrollment.created", target_repr__startswith="late@").exists()


def test_enrollment_add_form_goes_through_the_service(admin_client, campaign, mentee):
    data = add_form_data(
        admin_client,
        Enrollment,
        user=str(mentee.pk),
        program=str(campaign.program.pk),
        campaign=str(campaign.pk),
        role="mentee",
        source_system="platform",
    )
    response = admin_client.post(url(Enrollment, "add"), data)
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(user=mentee)
    assert enrollment.status == "active"
    assert enrollment.beneficiary_group_id == campaign.program.beneficiary_group_id
    assert enrollment.program_type == "mentorship"
    entry = AuditEntry.objects.get(action="enrollment.created", target_id=str(enrollment.pk))
    assert entry.actor_label == ADMIN_EMAIL
    assert entry.reason == "enrolled in the admin"


def test_enrollment_add_form_rejects_a_role_the_template_lacks(admin_client, campaign, mentee):
    data = add_form_data(
        admin_client,
        Enrollment,
        user=str(mentee.pk),
        program=str(campaign.program.pk),
        campaign="",
        role="buddy",
        source_system="platform",
    )
    response = admin_client.post(url(Enrollment, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"] == ["Roles of this program: mentee, mentor."]
    assert not Enrollment.objects.exists()


def test_company_add_and_change_go_through_the_services(admin_client):
    data = add_form_data(
        admin_client,
        Company,
        name="Initech",
        key="initech",
        description="",
        country="de",
        website="",
        is_active="on",
    )
    response = admin_client.post(url(Company, "add"), data)
    assert response.status_code == 302
    company = Company.objects.get(key="initech")
    assert company.country == "DE"
    assert AuditEntry.objects.get(action="company.created", target_id=str(company.pk)).actor_label == ADMIN_EMAIL

    data = add_form_data(admin_client, Company) | {
        "name": "Initech GmbH",
        "description": "",
        "country": "DE",
        "website": "",
        "is_active": "on",
        "key": "changed-key",  # read-only on the change form: ignored
    }
    response = admin_client.post(url(Company, "change", company.pk), data)
    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.name, company.key) == ("Initech GmbH", "initech")
    entry = AuditEntry.objects.get(action="company.updated", target_id=str(company.pk))
    assert entry.changes == {"name": ["Initech", "Initech GmbH"]}


# --- enrollment counts on the changelists -------------------------------------------------------


def test_program_and_campaign_changelists_show_enrollment_counts(admin_client, campaign, make_user):
    users = [make_user(email=f"p{n}@example.org") for n in range(3)]
    enrollments = [enrollment_create(user=u, program=campaign.program, campaign=campaign, role="mentee") for u in users]
    enrollment_set_status(enrollment=enrollments[0], status="dropped", reason="left")

    html = admin_client.get(url(Program, "changelist")).content.decode()
    assert "Active enrollments" in html
    assert changelist_cells(html, "enrollment_count") == ["2"]

    html = admin_client.get(url(Campaign, "changelist")).content.decode()
    assert "Places taken" in html
    assert changelist_cells(html, "places_taken") == ["2 / 5"]

    # A completed enrollment still holds its place but is no longer active.
    enrollment_set_status(enrollment=enrollments[1], status="completed", reason="done")
    html = admin_client.get(url(Program, "changelist")).content.decode()
    assert changelist_cells(html, "enrollment_count") == ["1"]
    html = admin_client.get(url(Campaign, "changelist")).content.decode()
    assert changelist_cells(html, "places_taken") == ["2 / 5"]


# --- operators: staff with model permissions ----------------------------------------------------


def test_staff_without_a_role_or_permissions_cannot_open_templates(client, make_user):
    client.force_login(make_user(email="staff@example.org", is_staff=True))
    assert client.get("/admin/").status_code == 200
    assert client.get(url(ProgramTemplate, "changelist")).status_code == 403


def test_the_operator_role_carries_the_admin_permissions(client, operator, mentorship_template):
    draft = template_new_version(template=mentorship_template)
    client.force_login(operator)
    response = client.get(url(ProgramTemplate, "changelist"))
    assert response.status_code == 200
    assert {"publish", "publish_deprecating_previous", "new_version", "archive"} == actions_offered(
        response.content.decode()
    )
    response = run_action(client, ProgramTemplate, "publish", [draft])
    assert message_texts(response) == ["Published 1 template(s)."]


def test_operator_with_view_permission_cannot_run_service_actions(client, operator_with_perms, mentorship_template):
    draft = template_new_version(template=mentorship_template)
    user = operator_with_perms("view_programtemplate")
    client.force_login(user)
    response = client.get(url(ProgramTemplate, "changelist"))
    assert response.status_code == 200
    assert "publish" not in actions_offered(response.content.decode())

    response = run_action(client, ProgramTemplate, "publish", [draft])
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not AuditEntry.objects.filter(action="template.published", target_id=str(draft.pk)).exists()


def test_operator_with_change_permission_publishes_a_draft(client, operator_with_perms, mentorship_template):
    draft = template_new_version(template=mentorship_template)
    user = operator_with_perms("view_programtemplate", "change_programtemplate")
    client.force_login(user)
    response = client.get(url(ProgramTemplate, "changelist"))
    assert {"publish", "archive"} <= actions_offered(response.content.decode())
    assert "new_version" not in actions_offered(response.content.decode())  # needs the add permission

    response = run_action(client, ProgramTemplate, "publish", [draft])
    assert message_texts(response) == ["Published 1 template(s)."]
    draft.refresh_from_db()
    assert draft.status == "active"
    entry = AuditEntry.objects.get(action="template.published", target_id=str(draft.pk))
    assert entry.actor_id == user.pk
    assert entry.actor_label == "operator.perms@example.org"


def test_a_published_template_page_is_view_only(admin_client, mentorship_template):
    html = admin_client.get(url(ProgramTemplate, "change", mentorship_template.pk)).content.decode()
    assert 'name="_save"' not in html
    assert "&quot;default_duration_minutes&quot;: 60" in html  # the pretty, read-only config
    draft = template_new_version(template=mentorship_template)
    assert 'name="_save"' in admin_client.get(url(ProgramTemplate, "change", draft.pk)).content.decode()
