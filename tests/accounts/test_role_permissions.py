import pytest
from django.contrib.auth.models import Group

from accounts.services import roles_grant_app_permissions


def _codenames(role):
    return set(Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename"))


@pytest.mark.django_db
def test_migrate_gives_operators_view_add_change_but_never_delete():
    perms = _codenames("operator")
    for label, model in [
        ("programs", "program"),
        ("programs", "campaign"),
        ("enrollments", "enrollment"),
        ("templates_app", "programtemplate"),
        ("accounts", "company"),
    ]:
        assert {(label, f"view_{model}"), (label, f"add_{model}"), (label, f"change_{model}")} <= perms
    assert ("core", "view_auditentry") in perms
    assert ("core", "change_auditentry") not in perms
    assert not [codename for _, codename in perms if codename.startswith("delete_")]


@pytest.mark.django_db
def test_reviewers_may_only_look():
    perms = _codenames("reviewer")
    assert {codename.split("_", 1)[0] for _, codename in perms} == {"view"}
    assert perms == {
        ("templates_app", "view_programtemplate"),
        ("programs", "view_beneficiarygroup"),
        ("programs", "view_program"),
        ("programs", "view_campaign"),
        ("programs", "view_programtrack"),
        ("enrollments", "view_enrollment"),
        ("enrollments", "view_journeyflags"),
        ("enrollments", "view_outcome"),
        ("scheduling", "view_cohort"),
        ("scheduling", "view_cohortmember"),
        ("scheduling", "view_availabilitywindow"),
        ("scheduling", "view_session"),
        ("scheduling", "view_registration"),
        ("scheduling", "view_attendance"),
        ("scheduling", "view_sessionreminder"),
        ("scheduling", "view_hostconfirmation"),
        ("applications", "view_application"),
        ("applications", "view_applicationform"),
        ("applications", "view_scoringrubric"),
        ("applications", "view_programreviewer"),
        ("applications", "view_reviewassignment"),
        ("applications", "view_conflictofinterest"),
        ("applications", "view_review"),
        ("applications", "view_waitlistoffer"),
    }


@pytest.mark.django_db
def test_granting_is_idempotent():
    from django.apps import apps

    assert roles_grant_app_permissions(apps.get_app_config("programs")) == 0


@pytest.mark.django_db
def test_a_staff_operator_works_in_the_admin_without_manual_grants(client, make_user):
    operator = make_user(email="op@example.org", role="operator", is_staff=True)
    client.force_login(operator)
    assert client.get("/admin/programs/program/").status_code == 200
    assert client.get("/admin/enrollments/enrollment/add/").status_code == 200
    assert client.get("/admin/core/auditentry/").status_code == 200
    assert client.get("/admin/auth/group/").status_code == 403


@pytest.mark.django_db
def test_no_role_sees_calendar_feed_addresses():
    for role in ("operator", "reviewer", "mentor", "writer", "integrator"):
        assert not {codename for app, codename in _codenames(role) if codename.endswith("_calendarfeed")}, role
