from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.inbox, name="notifications-inbox"),
    path("read-all", views.mark_all_read, name="notifications-read-all"),
    path("<uuid:notification_id>/read", views.mark_read, name="notification-read"),
]
