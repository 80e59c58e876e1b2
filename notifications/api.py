"""The caller's notifications: the inbox (list, mark read, mark all read) and preferences."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.models import Notification
from notifications.selectors import notification_inbox, notification_kinds_optional, notification_preferences_of
from notifications.services import (
    notification_mark_read,
    notification_preferences_update,
    notifications_mark_all_read,
)

TAGS = ["me: notifications"]


class RelatedObjectOutput(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()

    class Meta:
        ref_name = "NotificationRelatedObject"


class MyNotificationOutput(serializers.ModelSerializer):
    group = serializers.CharField(source="kind_group")
    text = serializers.CharField(source="dashboard_text")
    related = RelatedObjectOutput(many=True)
    is_read = serializers.BooleanField()

    class Meta:
        model = Notification
        ref_name = "MyNotification"
        fields = ["id", "kind", "group", "subject", "text", "related", "sent_at", "read_at", "is_read", "created_at"]


class MyNotificationFilter(django_filters.FilterSet):
    unread = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_unread",
        label="true: only unread notifications; false: only read ones.",
    )

    class Meta:
        model = Notification
        fields = ["unread"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "true")


class MyNotificationsApi(ListAPIView):
    serializer_class = MyNotificationOutput
    filterset_class = MyNotificationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        return notification_inbox(user=self.request.user)

    @extend_schema(
        operation_id="me_notifications_list",
        description="The caller's delivered dashboard notifications, newest first; `unread=true` "
        "lists only the unread ones.",
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyNotificationReadApi(APIView):
    @extend_schema(
        operation_id="me_notifications_read",
        description="Mark one of the caller's notifications read (the first read time is kept). "
        "Another user's notification answers 404.",
        request=None,
        responses={200: MyNotificationOutput},
        tags=TAGS,
    )
    def post(self, request, notification_id):
        notification = notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(MyNotificationOutput(notification).data)


class MyNotificationsReadAllApi(APIView):
    class Output(serializers.Serializer):
        marked = serializers.IntegerField(help_text="How many unread notifications were marked read.")

        class Meta:
            ref_name = "NotificationsMarkedRead"

    @extend_schema(
        operation_id="me_notifications_read_all",
        description="Mark every unread notification of the caller read.",
        request=None,
        responses={200: Output},
        tags=TAGS,
    )
    def post(self, request):
        return Response(self.Output({"marked": notifications_mark_all_read(user=request.user)}).data)


class NotificationKindOutput(serializers.Serializer):
    key = serializers.CharField()
    group = serializers.CharField()
    description = serializers.CharField()

    class Meta:
        ref_name = "NotificationKindOptional"


class MyNotificationPreferencesApi(APIView):
    class Input(serializers.Serializer):
        opted_out_kinds = serializers.ListField(
            child=serializers.CharField(max_length=100),
            required=False,
            default=list,
            help_text="Non-essential kinds the caller does not want (see `optional_kinds`).",
        )
        quiet_hours_start = serializers.TimeField(
            required=False, allow_null=True, default=None, help_text="In the caller's time zone (UTC if unset)."
        )
        quiet_hours_end = serializers.TimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="May be earlier than the start: the quiet hours then cross midnight.",
        )
        email_enabled = serializers.BooleanField(
            required=False, default=True, help_text="Off: only essential notifications arrive by e-mail."
        )

        class Meta:
            ref_name = "NotificationPreferencesUpdate"

    class Output(serializers.Serializer):
        opted_out_kinds = serializers.ListField(child=serializers.CharField())
        quiet_hours_start = serializers.TimeField(allow_null=True)
        quiet_hours_end = serializers.TimeField(allow_null=True)
        email_enabled = serializers.BooleanField()
        optional_kinds = NotificationKindOutput(many=True, help_text="The kinds that can be opted out of.")

        class Meta:
            ref_name = "NotificationPreferences"

    def _render(self, preference) -> Response:
        return Response(
            self.Output(
                {
                    "opted_out_kinds": preference.opted_out_kinds,
                    "quiet_hours_start": preference.quiet_hours_start,
                    "quiet_hours_end": preference.quiet_hours_end,
                    "email_enabled": preference.email_enabled,
                    "optional_kinds": notification_kinds_optional(),
                }
            ).data
        )

    @extend_schema(operation_id="me_notification_preferences_retrieve", responses={200: Output}, tags=TAGS)
    def get(self, request):
        return self._render(notification_preferences_of(user=request.user))

    @extend_schema(
        operation_id="me_notification_preferences_update",
        description="Replace the caller's preferences (omitted fields take their defaults). Essential "
        "and unknown kinds cannot be opted out of; quiet hours need both ends.",
        request=Input,
        responses={200: Output},
        tags=TAGS,
    )
    def put(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        preference = notification_preferences_update(user=request.user, actor=request.user, **data.validated_data)
        return self._render(preference)
