from django.urls import path

from notifications import api

urlpatterns = [
    path("me/notifications", api.MyNotificationsApi.as_view(), name="api-my-notifications"),
    path("me/notifications/read-all", api.MyNotificationsReadAllApi.as_view(), name="api-my-notifications-read-all"),
    path(
        "me/notifications/<uuid:notification_id>/read",
        api.MyNotificationReadApi.as_view(),
        name="api-my-notification-read",
    ),
    path(
        "me/notification-preferences",
        api.MyNotificationPreferencesApi.as_view(),
        name="api-my-notification-preferences",
    ),
]
