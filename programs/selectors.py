from __future__ import annotations

from django.db.models import QuerySet

from programs.enums import ProgramStatus
from programs.models import BeneficiaryGroup, Campaign, Program


def beneficiary_group_list() -> QuerySet[BeneficiaryGroup]:
    return BeneficiaryGroup.objects.all().order_by("name")


def program_list() -> QuerySet[Program]:
    return Program.objects.select_related("beneficiary_group", "template").order_by("name", "id")


def program_catalog() -> QuerySet[Program]:
    """Programs the public sees: active ones only."""
    return program_list().filter(status=ProgramStatus.ACTIVE)


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("program", "company").order_by("program__name", "name", "id")
