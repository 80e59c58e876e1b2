"""Public pages: the program catalog and a program's detail page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from programs.filters import ProgramCatalogFilter
from programs.hooks import program_page_actions
from programs.selectors import beneficiary_group_list, program_catalog
from templates_app.enums import TemplateCategory

PAGE_SIZE = 12


def catalog(request):
    filterset = ProgramCatalogFilter(request.GET, queryset=program_catalog())
    programs = filterset.qs if filterset.is_valid() else program_catalog().none()
    page = Paginator(programs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programs/catalog.html",
        {
            "page": page,
            "filterset": filterset,
            "errors": filterset.errors,
            "program_types": TemplateCategory.choices,
            "groups": beneficiary_group_list().filter(is_active=True),
            "current": {
                "program_type": request.GET.get("program_type", ""),
                "beneficiary_group": request.GET.get("beneficiary_group", ""),
                "search": request.GET.get("search", ""),
                "tag": request.GET.get("tag", ""),
            },
            "querystring": query.urlencode(),
        },
    )


def program_detail(request, program_key: str):
    program = get_object_or_404(program_catalog(), program_key=program_key)
    return render(
        request,
        "programs/program_detail.html",
        {
            "program": program,
            "tracks": program.tracks.filter(active=True).order_by("position", "name"),
            "actions": program_page_actions(program, request.user),
        },
    )
