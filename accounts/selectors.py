from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Company, CompanyMembership, User


def company_list(*, filters: dict | None = None) -> QuerySet[Company]:
    return Company.objects.all().order_by("name")


def memberships_of(user: User) -> QuerySet[CompanyMembership]:
    return CompanyMembership.objects.filter(user=user).select_related("company").order_by("company__name")
