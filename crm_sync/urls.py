from django.urls import path

from crm_sync import api

urlpatterns = [
    path("admin/subscribers", api.SubscriberListCreateApi.as_view(), name="api-subscribers"),
    path("admin/subscribers/<uuid:subscriber_id>", api.SubscriberDetailApi.as_view(), name="api-subscriber"),
    path(
        "admin/subscribers/<uuid:subscriber_id>/rotate-secret",
        api.SubscriberRotateSecretApi.as_view(),
        name="api-subscriber-rotate",
    ),
    path("admin/outbox", api.OutboxListApi.as_view(), name="api-outbox"),
    path("admin/deliveries", api.DeliveryListApi.as_view(), name="api-deliveries"),
    path("admin/deliveries/<uuid:delivery_id>/replay", api.DeliveryReplayApi.as_view(), name="api-delivery-replay"),
    path("admin/event-types", api.EventTypeListApi.as_view(), name="api-event-types"),
    path("admin/programs/<uuid:program_id>/crm-sync", api.CrmSyncApi.as_view(), name="api-crm-sync"),
    path("integrations/events/<slug:source>", api.InboundEventReceiveApi.as_view(), name="api-inbound-events"),
    path("admin/inbound-sources", api.InboundSourceListCreateApi.as_view(), name="api-inbound-sources"),
    path(
        "admin/inbound-sources/<uuid:source_id>/rotate-secret",
        api.InboundSourceRotateSecretApi.as_view(),
        name="api-inbound-source-rotate",
    ),
    path("admin/inbound-events", api.InboundEventListApi.as_view(), name="api-inbound-events-list"),
    path(
        "admin/inbound-events/<uuid:event_id>/replay",
        api.InboundEventReplayApi.as_view(),
        name="api-inbound-event-replay",
    ),
]
