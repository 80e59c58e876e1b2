"""The person's calendar feed address: read it (issued on first request) or revoke it."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling.services.calendar import calendar_feed_get_or_create, calendar_feed_revoke

TAGS = ["me"]


class MyCalendarApi(APIView):
    class Output(serializers.Serializer):
        class Meta:
            ref_name = "MyCalendar"

        url = serializers.URLField(
            help_text="Your private iCalendar feed (hosted, registered and waitlisted sessions). Anyone "
            "with the address sees your sessions: keep it private, revoke it when it leaked."
        )

    @extend_schema(
        operation_id="me_calendar_retrieve",
        description="The address of your private calendar feed; issued on the first request (and again "
        "after a revocation), the same address afterwards.",
        responses={200: Output},
        tags=TAGS,
    )
    def get(self, request):
        feed = calendar_feed_get_or_create(request.user)
        url = settings.SITE_URL + reverse("calendar-feed", kwargs={"token": feed.token})
        return Response(self.Output({"url": url}).data)

    @extend_schema(
        operation_id="me_calendar_revoke",
        description="Revoke your calendar feed address: it answers 404 from now on; the next GET "
        "issues a new one. Answers 204 also when there was no address.",
        responses={204: None},
        tags=TAGS,
    )
    def delete(self, request):
        calendar_feed_revoke(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
