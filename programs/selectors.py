from __future__ import annotations

from django.db.models import QuerySet

from programs.enums import ProgramStatus
from programs.models import BeneficiaryGroup, Campaign, Program


def beneficiary_group_list() -> QuerySet[BeneficiaryGroup]:
    return BeneficiaryGroup.objects.all().order_by("name")


# The template's JSON documents (schema, defaults, states...) are large and no list shows them:
# decoding them for every row was most of a catalog page's time.
TEMPLATE_DOCUMENTS = (
    "template__config_schema",
    "template__default_config",
    "template__enrollment_states",
    "template__activity_types",
    "template__metrics_tracked",
    "template__vis_components",
    "template__sroi_dimensions",
)


def program_list() -> QuerySet[Program]:
    return (
        Program.objects.select_related("beneficiary_group", "template")
        .defer(*TEMPLATE_DOCUMENTS)
        .order_by("name", "id")
    )


def program_catalog() -> QuerySet[Program]:
    """Programs the public sees: active ones only."""
    return program_list().filter(status=ProgramStatus.ACTIVE)


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("program", "company").order_by("program__name", "name", "id")
