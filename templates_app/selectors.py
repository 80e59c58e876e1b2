from __future__ import annotations

from django.db.models import QuerySet

from templates_app.models import ProgramTemplate


def template_list() -> QuerySet[ProgramTemplate]:
    return ProgramTemplate.objects.all().order_by("template_key", "-version")
