"""Enrollments follow their program: dual-write copies, template migrations and reactivation."""

from __future__ import annotations

import pytest

from core.errors import Conflict
from core.models import AuditEntry
from enrollments.models import Enrollment
from enrollments.selectors import integrity_report
from enrollments.services import enrollment_create, enrollment_set_status
from programs.services import campaign_update, program_set_status
from templates_app.services import template_new_version, template_publish, template_update

pytestmark = pytest.mark.django_db


def test_changing_the_programs_group_moves_its_enrollments(operator_api, make_user, program, other_group, operator):
    enrollments = [enrollment_create(user=make_user(), program=program, role="mentee") for _ in range(3)]

    response = operator_api.patch(
        f"/api/v1/admin/programs/{program.id}", {"beneficiary_group_id": str(other_group.id)}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["beneficiary_group_id"] == str(other_group.id)
    assert set(
        Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).values_list("beneficiary_group_id", flat=True)
    ) == {other_group.id}
    entry = AuditEntry.objects.get(action="program.enrollments_regrouped")
    assert (entry.target_id, entry.actor_id) == (str(program.id), operator.id)
    assert entry.changes == {"beneficiary_group": str(other_group.id), "enrollments": 3}
    assert integrity_report()["ok"] is True


def test_a_program_cannot_migrate_to_a_version_without_a_role_in_use(operator_api, make_user, program):
    enrollment_create(user=make_user(), program=program, role="mentee")
    draft = template_new_version(template=program.template)
    template_update(template=draft, data={"roles": [{"role": "mentor", "platform_role": "volunteer"}]})
    template_publish(template=draft)

    response = operator_api.post(
        f"/api/v1/admin/programs/{program.id}/migrate-template", {"template_id": str(draft.id)}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "The program cannot move to v2."
    assert response.json()["errors"] == {
        "template_id": "Enrollments of this program hold role(s) that v2 does not define: mentee."
    }
    program.refresh_from_db()
    assert program.template.version == 1


def test_a_program_without_such_enrollments_migrates(operator_api, program):
    draft = template_new_version(template=program.template)
    template_update(template=draft, data={"roles": [{"role": "mentor", "platform_role": "volunteer"}]})
    template_publish(template=draft)
    response = operator_api.post(
        f"/api/v1/admin/programs/{program.id}/migrate-template", {"template_id": str(draft.id)}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["template_version"] == 2


def test_reactivation_needs_an_active_program(make_user, program):
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")
    enrollment_set_status(enrollment=enrollment, status="dropped")
    program_set_status(program=program, status="closed")

    with pytest.raises(Conflict) as excinfo:
        enrollment_set_status(enrollment=enrollment, status="active", reason="came back")

    assert excinfo.value.detail == "The program 'Mentorship 2026' is closed and takes no enrollments."
    assert Enrollment.objects.get(pk=enrollment.pk).status == "dropped"


def test_reactivation_needs_an_active_campaign(make_user, program, campaign):
    enrollment = enrollment_create(user=make_user(), program=program, campaign=campaign, role="mentee")
    enrollment_set_status(enrollment=enrollment, status="dropped")
    campaign_update(campaign=campaign, data={"status": "cancelled"})

    with pytest.raises(Conflict) as excinfo:
        enrollment_set_status(enrollment=enrollment, status="active", reason="came back")

    assert excinfo.value.detail == "The campaign 'Acme Mentorship' is cancelled and takes no enrollments."
    assert Enrollment.objects.get(pk=enrollment.pk).status == "dropped"
