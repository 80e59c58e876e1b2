"""The signed-in person's own data (subject access): `GET /api/v1/me/data`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from privacy.services import person_export_record


class MeDataApi(APIView):
    permission_classes = [IsAuthenticated]

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "PersonalDataExport"

        class Person(serializers.Serializer):
            class Meta:
                ref_name = "PersonalDataPerson"

            id = serializers.UUIDField()
            email = serializers.CharField()
            full_name = serializers.CharField()

        class Summary(serializers.Serializer):
            class Meta:
                ref_name = "PersonalDataSummary"

            rows = serializers.DictField(child=serializers.IntegerField(), help_text="Rows per `app.model`.")
            total = serializers.IntegerField()

        person = Person()
        generated_at = serializers.DateTimeField()
        summary = Summary()
        data = serializers.DictField(
            child=serializers.ListField(child=serializers.DictField()),
            help_text="Each table's rows of the person (`app.model` -> rows of field -> value); decimals, "
            "times and ids are strings.",
        )
        about = serializers.DictField(child=serializers.CharField(), help_text="What each table holds.")

    @extend_schema(
        operation_id="me_data_retrieve",
        summary="Everything the platform holds about me",
        description="A JSON export of every row the platform keeps about the signed-in person, in every "
        "app, grouped by table, with a row count per table. Credentials (password hash, token hashes, "
        "calendar feed addresses) are left out. Each export is recorded in the audit trail.",
        responses={200: Output},
        tags=["me"],
    )
    def get(self, request):
        return Response(person_export_record(user=request.user, actor=request.user, via="api"))
