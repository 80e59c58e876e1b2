"""Data protection in the admin: two actions on the user list, "Export personal data (JSON)" and
"Erase personal data", each for one selected person, and their pages (the JSON download and the
erasure confirmation asking for the reason). Superusers only: an export holds everything about
a person and an erasure cannot be undone, so neither is part of the operator role.

The account admin of `accounts` is extended, not replaced: its registration is swapped for a
subclass that adds the actions and the two addresses."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from core.errors import DomainError
from privacy.services import MAX_REASON, person_erase, person_export_record

User = get_user_model()
BaseUserAdmin = type(admin.site.get_model_admin(User))


class ErasureForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The request this answers (who asked, when, reference). Recorded in the audit trail.",
    )
    confirm = forms.BooleanField(
        label="I understand that this cannot be undone",
        help_text="Names, e-mail, free texts and credentials are gone; counts and figures stay.",
    )


def _add_service_errors(form: forms.Form, exc: DomainError) -> None:
    if not exc.errors:
        form.add_error(None, exc.detail)
        return
    for name, message in exc.errors.items():
        form.add_error(name if name in form.fields else None, message)


class PrivacyUserAdmin(BaseUserAdmin):
    actions = [*BaseUserAdmin.actions, "export_personal_data", "erase_personal_data"]

    def has_privacy_permission(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one person.", level=messages.ERROR)
            return None
        return queryset.get()

    @admin.action(description="Export personal data (JSON)", permissions=["privacy"])
    def export_personal_data(self, request, queryset):
        user = self._one(request, queryset)
        if user is not None:
            return HttpResponseRedirect(reverse("admin:privacy_user_export", args=[user.pk]))
        return None

    @admin.action(description="Erase personal data", permissions=["privacy"])
    def erase_personal_data(self, request, queryset):
        user = self._one(request, queryset)
        if user is not None:
            return HttpResponseRedirect(reverse("admin:privacy_user_erase", args=[user.pk]))
        return None

    def get_urls(self):
        custom = [
            path(
                "<uuid:user_id>/personal-data.json",
                self.admin_site.admin_view(self.export_view),
                name="privacy_user_export",
            ),
            path(
                "<uuid:user_id>/erase-personal-data/",
                self.admin_site.admin_view(self.erase_view),
                name="privacy_user_erase",
            ),
        ]
        return custom + super().get_urls()

    def export_view(self, request, user_id):
        if not self.has_privacy_permission(request):
            raise PermissionDenied
        user = get_object_or_404(User, pk=user_id)
        export = person_export_record(user=user, actor=request.user, via="admin")
        response = HttpResponse(
            json.dumps(export, indent=2, ensure_ascii=False, sort_keys=True), content_type="application/json"
        )
        filename = f"personal-data-{slugify(user.email.split('@')[0]) or user.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def erase_view(self, request, user_id):
        if not self.has_privacy_permission(request):
            raise PermissionDenied
        user = get_object_or_404(User, pk=user_id)
        change_url = reverse("admin:accounts_user_change", args=[user.pk])
        form = ErasureForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = person_erase(user=user, actor=request.user, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Personal data erased: {sum(report.anonymised.values())} row(s) anonymised, "
                    f"{sum(report.deleted.values())} deleted, {sum(report.rewritten.values())} rewritten. "
                    f"The account is now {report.email}.",
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase personal data",
            "person": user,
            "form": form,
            "change_url": change_url,
            "export_url": reverse("admin:privacy_user_export", args=[user.pk]),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/privacy/erase.html", context)


admin.site.unregister(User)
admin.site.register(User, PrivacyUserAdmin)
