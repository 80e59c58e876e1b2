"""Operators' view of notifications: the log (read-only, with a retry for failed e-mails), rate
limits (data, editable, audited) and users' preferences. Every write goes through a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html

from core.admin import AuditTrailMixin, ServiceAdminMixin, pretty_json
from notifications.enums import NotificationStatus
from notifications.models import Notification, NotificationPreference, RateLimitPolicy
from notifications.selectors import notification_kinds_optional
from notifications.services import (
    notification_preferences_update,
    notification_retry,
    rate_limit_policy_delete,
    rate_limit_policy_save,
)


class NotificationActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason", help_text="Recorded in the audit trail.")


@admin.register(Notification)
class NotificationAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    action_form = NotificationActionForm
    list_display = (
        "created_at",
        "user",
        "channel",
        "kind",
        "kind_group",
        "status",
        "suppressed_reason",
        "attempts",
        "scheduled_for",
        "sent_at",
        "read_at",
    )
    list_filter = ("status", "channel", "kind", "kind_group", "suppressed_reason")
    search_fields = ("user__email", "dedupe_key", "subject")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    actions = ["retry_failed"]
    fieldsets = (
        (None, {"fields": ("user", "channel", "kind", "kind_group", "status", "suppressed_reason", "dedupe_key")}),
        (
            "Delivery",
            {
                "fields": (
                    "attempts",
                    "last_error_text",
                    "next_attempt_at",
                    "claimed_until",
                    "scheduled_for",
                    "sent_at",
                    "read_at",
                )
            },
        ),
        (
            "Content",
            {
                "fields": (
                    "template_name",
                    "subject",
                    "body_text",
                    "body_html",
                    "dashboard_text",
                    "context_pretty",
                    "related_pretty",
                )
            },
        ),
        ("History", {"fields": ("created_at", "updated_at", "audit_trail")}),
    )
    readonly_fields = [
        *(f.name for f in Notification._meta.fields if f.name not in ("context", "related", "last_error")),
        "last_error_text",
        "context_pretty",
        "related_pretty",
        "audit_trail",
    ]

    @admin.display(description="Last error")
    def last_error_text(self, obj) -> str:
        return format_html('<pre class="readonly-json">{}</pre>', obj.last_error) if obj.last_error else "-"

    @admin.display(description="Context")
    def context_pretty(self, obj):
        return pretty_json(obj.context)

    @admin.display(description="Related objects")
    def related_pretty(self, obj):
        return pretty_json(obj.related)

    @admin.action(description="Retry failed e-mails now", permissions=["change"])
    def retry_failed(self, request, queryset):
        reason = request.POST.get("reason", "").strip() or "retried in the admin"
        failed = queryset.filter(status=NotificationStatus.FAILED)
        skipped = queryset.exclude(status=NotificationStatus.FAILED).count()
        self.run_service_action(
            request,
            failed,
            lambda notification: notification_retry(notification=notification, actor=request.user, reason=reason),
            "Re-queued {count} failed notification(s); they are being sent again.",
        )
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} notification(s) that had not failed.", level=messages.WARNING
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: the log changes only through delivery and the retry action.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        return None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RateLimitPolicy)
class RateLimitPolicyAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ("group", "channel", "max_count", "window_hours", "updated_at")
    list_filter = ("channel",)
    search_fields = ("group",)
    fields = ("group", "channel", "max_count", "window_hours", "audit_trail")
    readonly_fields = ("audit_trail",)

    def save_model(self, request, obj, form, change):
        rate_limit_policy_save(policy=obj, actor=request.user)

    def delete_model(self, request, obj):
        rate_limit_policy_delete(policy=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            rate_limit_policy_delete(policy=policy, actor=request.user)


class NotificationPreferenceForm(forms.ModelForm):
    opted_out_kinds = forms.MultipleChoiceField(
        choices=lambda: [(k.key, f"{k.key} ({k.group}): {k.description}") for k in notification_kinds_optional()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Essential kinds cannot be turned off.",
    )

    class Meta:
        model = NotificationPreference
        fields = ["user", "opted_out_kinds", "quiet_hours_start", "quiet_hours_end", "email_enabled"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = NotificationPreferenceForm
    list_display = ("user", "email_enabled", "opted_out_kinds", "quiet_hours_start", "quiet_hours_end", "updated_at")
    list_filter = ("email_enabled",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    autocomplete_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        return ("user", "audit_trail") if obj is not None else ("audit_trail",)

    def get_fields(self, request, obj=None):
        return ["user", "opted_out_kinds", "quiet_hours_start", "quiet_hours_end", "email_enabled", "audit_trail"]

    def save_model(self, request, obj, form, change):
        saved = notification_preferences_update(
            user=obj.user,
            opted_out_kinds=list(form.cleaned_data["opted_out_kinds"]),
            quiet_hours_start=form.cleaned_data["quiet_hours_start"],
            quiet_hours_end=form.cleaned_data["quiet_hours_end"],
            email_enabled=form.cleaned_data["email_enabled"],
            actor=request.user,
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False
