from __future__ import annotations

import uuid

import django_filters
from django.db.models import Q
from django.utils.text import slugify

from core.db import json_list_contains
from programs.enums import CampaignStatus, ProgramStatus
from programs.models import Campaign, Program
from templates_app.enums import TemplateCategory


class ProgramCatalogFilter(django_filters.FilterSet):
    """Filters of the public catalog (API and pages)."""

    program_type = django_filters.ChoiceFilter(choices=TemplateCategory.choices)
    tag = django_filters.CharFilter(method="filter_tag")
    beneficiary_group = django_filters.CharFilter(method="filter_group", help_text="A beneficiary group id or key.")
    search = django_filters.CharFilter(method="filter_search", help_text="Words in the name or description.")

    class Meta:
        model = Program
        fields = ["program_type", "tag", "beneficiary_group", "search"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(json_list_contains("tags", slugify(value)))

    def filter_group(self, queryset, name, value):
        try:
            return queryset.filter(beneficiary_group_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(beneficiary_group__key=value)

    def filter_search(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word))
        return queryset


class ProgramAdminFilter(ProgramCatalogFilter):
    status = django_filters.ChoiceFilter(choices=ProgramStatus.choices)
    template = django_filters.UUIDFilter(field_name="template_id")

    class Meta:
        model = Program
        fields = ["program_type", "tag", "beneficiary_group", "search", "status", "template"]


class CampaignFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    company = django_filters.UUIDFilter(field_name="company_id")
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices)

    class Meta:
        model = Campaign
        fields = ["program", "company", "status"]
