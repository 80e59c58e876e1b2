from django.urls import path

from privacy import api

urlpatterns = [
    path("me/data", api.MeDataApi.as_view(), name="api-me-data"),
]
