"""Admin building blocks shared by every app: the audit trail on each object's page, pretty
read-only JSON, service-driven saves, and CSV export."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.audit import audit_entries_for
from core.errors import DomainError
from core.models import AuditEntry, IdempotencyRecord, JobRun

AUDIT_ROWS_SHOWN = 50


def domain_error_text(exc: DomainError) -> str:
    """The error's summary followed by each field's message ("reason: ... needs a reason.")."""
    details = [f"{path}: {message}" for path, message in exc.errors.items()]
    return " ".join([exc.detail, *details]) if details else exc.detail


def pretty_json(value) -> str:
    return format_html(
        '<pre class="readonly-json">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


class AuditTrailMixin:
    """Adds a read-only `audit_trail` field listing the object's latest audit entries."""

    @admin.display(description="Audit trail")
    def audit_trail(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "-"
        entries = list(audit_entries_for(obj)[:AUDIT_ROWS_SHOWN])
        if not entries:
            return "No recorded changes yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S %Z"),
                    e.actor_label,
                    e.action,
                    json.dumps(e.changes, sort_keys=True, ensure_ascii=False),
                    e.reason,
                )
                for e in entries
            ),
        )
        return format_html(
            '<table class="audit-trail"><thead><tr><th>When</th><th>Who</th><th>Action</th>'
            "<th>Changes</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


class ServiceAdminMixin:
    """Saves go through services (`save_model` is overridden by each admin); a domain error
    raised there (a rule broken between form validation and save) is shown as a message and
    the whole change is rolled back, instead of a server error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, domain_error_text(exc), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def run_service_action(self, request, queryset, fn, success: str) -> None:
        """Apply `fn(obj)` to each selected object; report successes and each failure."""
        done = 0
        for obj in queryset:
            try:
                fn(obj)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{obj}: {domain_error_text(exc)}", level=messages.ERROR)
        if done:
            self.message_user(request, success.format(count=done), level=messages.SUCCESS)


def status_action(
    name: str,
    *,
    to: str,
    description: str,
    done: str,
    apply: Callable[[Any, str, Any, str], Any],
    default_reason: str = "",
):
    """An admin action (named `name`) that moves each selected object to status `to` through
    `apply(obj, to, actor, reason)`, a service call. The reason is the action form's `reason`
    field where the admin has one, else `default_reason`. Needs the change permission."""

    def action(modeladmin, request, queryset):
        reason = request.POST.get("reason", "").strip() or default_reason
        modeladmin.run_service_action(request, queryset, lambda obj: apply(obj, to, request.user, reason), done)

    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)


def export_as_csv(modeladmin, request, queryset, fields: list[str], filename: str):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(fields)
    for obj in queryset:
        row = []
        for name in fields:
            value = getattr(obj, name)
            if isinstance(value, (dict, list)):
                value = json.dumps(value, sort_keys=True, ensure_ascii=False)
            row.append("" if value is None else value)
        writer.writerow(row)
    return response


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "target_type", "target_repr", "reason")
    list_filter = ("action", "target_type")
    search_fields = ("actor_label", "action", "target_repr", "target_id", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("target_type",)
    actions = ["export_csv"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields] + ["changes_pretty"]
    exclude = ("changes",)

    @admin.display(description="Changes")
    def changes_pretty(self, obj):
        return pretty_json(obj.changes)

    @admin.action(description="Export selected entries as CSV")
    def export_csv(self, request, queryset):
        return export_as_csv(
            self,
            request,
            queryset,
            [
                "created_at",
                "actor_label",
                "action",
                "target_type",
                "target_id",
                "target_repr",
                "changes",
                "reason",
            ],
            "audit-trail.csv",
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "method", "path", "key", "state", "response_status")
    list_filter = ("state", "method")
    search_fields = ("key", "path", "scope")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "status", "trigger", "started_at", "duration", "counts_summary", "progress")
    list_filter = ("status", "job", "trigger")
    search_fields = ("job", "error", "id")
    date_hierarchy = "started_at"
    list_select_related = ("triggered_by",)
    readonly_fields = [f.name for f in JobRun._meta.fields] + ["counts_pretty"]
    exclude = ("counts",)
    actions = ["run_again"]

    @admin.display(description="Duration")
    def duration(self, obj) -> str:
        return f"{obj.duration_seconds:.2f}s" if obj.duration_seconds is not None else "running"

    @admin.display(description="Counts")
    def counts_summary(self, obj) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(obj.counts.items())) or "-"

    @admin.display(description="Counts")
    def counts_pretty(self, obj):
        return pretty_json(obj.counts)

    @admin.action(description="Run the selected runs' jobs again now", permissions=["view"])
    def run_again(self, request, queryset):
        from core.jobs import run_job

        for name in sorted(set(queryset.values_list("job", flat=True))):
            try:
                run = run_job(name, trigger=JobRun.Trigger.ADMIN, user=request.user)
            except DomainError as exc:
                self.message_user(request, exc.detail, level=messages.ERROR)
                continue
            level = messages.SUCCESS if run.status == JobRun.Status.SUCCEEDED else messages.ERROR
            self.message_user(request, f"{name}: {run.status} ({self.counts_summary(run)}).", level=level)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
