from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from core.admin import AuditTrailMixin, ServiceAdminMixin, pretty_json
from core.errors import DomainError
from crm_sync.enums import DeliveryStatus, InboundStatus
from crm_sync.models import CrmSyncItem, Delivery, InboundEvent, InboundSource, OutboxEvent, Subscriber
from crm_sync.services import (
    delivery_replay,
    inbound_replay,
    inbound_source_create,
    inbound_source_rotate_secret,
    subscriber_create,
    subscriber_rotate_secret,
    subscriber_update,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "event_type",
        "schema_version",
        "subject_type",
        "subject_id",
        "actor",
        "fanned_out_at",
    )
    list_filter = ("event_type", ("fanned_out_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "subject_id", "correlation_id")
    date_hierarchy = "occurred_at"
    readonly_fields = ("envelope_pretty",)
    fields = ("envelope_pretty", "fanned_out_at")

    @admin.display(description="Envelope")
    def envelope_pretty(self, obj):
        return pretty_json(obj.envelope())


def _notify_secret(modeladmin, request, name: str, secret: str) -> None:
    modeladmin.message_user(
        request, f"Signing secret of {name} (copy it now, it is not shown again): {secret}", level=messages.WARNING
    )


class SubscriberForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.JSONField(help_text='A list of event types, e.g. ["enrollment.created"]; ["*"] for all.')

    class Meta:
        model = Subscriber
        fields = ["name", "kind", "url", "event_types", "active"]


@admin.register(Subscriber)
class SubscriberAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = SubscriberForm
    list_display = ("name", "kind", "url", "active", "disabled_reason", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("name", "url")
    readonly_fields = ("secret_hint", "disabled_reason", "previous_secret_expires_at", "audit_trail")
    actions = ["rotate_secret"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    @admin.display(description="Secret")
    def secret_hint(self, obj) -> str:
        return obj.secret[:10] + "…" if obj.secret else "-"

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in ("name", "url", "event_types", "active")}
        if change:
            subscriber_update(subscriber=obj, data=data, actor=request.user)
            return
        active = data.pop("active")
        saved = subscriber_create(kind=form.cleaned_data["kind"], actor=request.user, **data)
        if not active:
            subscriber_update(subscriber=saved, data={"active": False}, actor=request.user)
        _notify_secret(self, request, saved.name, saved.secret)
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.action(description="Rotate the signing secret (the new one is shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for subscriber in queryset:
            rotated = subscriber_rotate_secret(subscriber=subscriber, actor=request.user)
            _notify_secret(self, request, rotated.name, rotated.secret)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "event_occurred_at",
        "event_type",
        "subscriber",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    )
    list_filter = ("status", "event_type", "subscriber")
    search_fields = ("event__id", "subject_key", "last_error")
    list_select_related = ("subscriber",)
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay selected dead or failed deliveries now", permissions=["view"])
    def replay(self, request, queryset):
        done = 0
        for delivery in queryset.filter(status__in=(DeliveryStatus.DEAD, DeliveryStatus.FAILED)):
            delivery_replay(delivery=delivery, actor=request.user)
            done += 1
        self.message_user(request, f"Replaying {done} deliveries.", level=messages.SUCCESS)


@admin.register(CrmSyncItem)
class CrmSyncItemAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "program_id", "entity_type", "entity_id", "requested_by", "reason")
    list_filter = ("entity_type",)
    search_fields = ("entity_id", "program_id")
    list_select_related = ("requested_by",)


class InboundSourceForm(forms.ModelForm):
    class Meta:
        model = InboundSource
        fields = ["key", "name", "active"]


@admin.register(InboundSource)
class InboundSourceAdmin(ServiceAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    form = InboundSourceForm
    list_display = ("key", "name", "active", "created_at")
    search_fields = ("key", "name")
    readonly_fields = ("secret_hint", "previous_secret_expires_at", "audit_trail")
    actions = ["rotate_secret"]

    def get_readonly_fields(self, request, obj=None):
        return ("key", *self.readonly_fields) if obj else self.readonly_fields

    @admin.display(description="Secret")
    def secret_hint(self, obj) -> str:
        return obj.secret[:10] + "…" if obj.secret else "-"

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "active", "updated_at"])
            return
        saved = inbound_source_create(key=form.cleaned_data["key"], name=form.cleaned_data["name"], actor=request.user)
        _notify_secret(self, request, saved.key, saved.secret)
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.action(description="Rotate the signing secret (the new one is shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for source in queryset:
            rotated = inbound_source_rotate_secret(source=source, actor=request.user)
            _notify_secret(self, request, rotated.key, rotated.secret)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "source", "event_type", "schema_version", "status", "attempts", "short_error")
    list_filter = ("status", "source", "event_type")
    search_fields = ("event_id", "error")
    list_select_related = ("source",)
    readonly_fields = (
        "source",
        "event_id",
        "status",
        "error",
        "errors_pretty",
        "envelope_pretty",
        "attempts",
        "next_attempt_at",
        "processed_at",
        "raw_body",
    )
    fields = readonly_fields
    actions = ["replay"]

    @admin.display(description="Error")
    def short_error(self, obj) -> str:
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description="Errors")
    def errors_pretty(self, obj):
        return pretty_json(obj.errors)

    @admin.display(description="Envelope")
    def envelope_pretty(self, obj):
        return pretty_json(obj.envelope) if obj.envelope else format_html("<em>{}</em>", "not JSON")

    @admin.action(description="Replay selected failed, rejected or skipped events", permissions=["view"])
    def replay(self, request, queryset):
        for event in queryset.filter(status__in=(InboundStatus.FAILED, InboundStatus.REJECTED, InboundStatus.SKIPPED)):
            try:
                replayed = inbound_replay(event=event, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{event.event_id}: {exc.detail}", level=messages.ERROR)
                continue
            self.message_user(request, f"{event.event_id}: {replayed.status}.", level=messages.INFO)
