"""Analytics API: one program's metrics and the cross-program overview, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.scope import Scope
from analytics.selectors import cross_program_analytics, program_analytics, scope_errors
from core.api.permissions import IsOperatorOrIntegrator
from core.errors import NotFound, ValidationFailed
from programs.models import Program

TAGS = ["admin: analytics"]


class CSVRenderer(BaseRenderer):
    """Renders `{"columns": [...], "rows": [{...}]}` as CSV with a header line."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=data["columns"], extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({key: "" if value is None else value for key, value in row.items()} for row in data["rows"])
        return out.getvalue().encode(self.charset)


class ScopeInput(serializers.Serializer):
    # `from` is a Python keyword: declared below under its query name.
    to = serializers.DateField(required=False, help_text="Last day included (UTC), YYYY-MM-DD.")
    campaign = serializers.UUIDField(required=False, help_text="Only this campaign of the program.")
    cohort = serializers.UUIDField(required=False, help_text="Only members of this cohort of the program.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, help_text="First day included (UTC), YYYY-MM-DD.")
        return fields

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": "Must not be before `from`."})
        return attrs


SCOPE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day included (UTC)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day included (UTC)."),
]
FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv"], description="`csv` answers the table as CSV."
)


class StageCount(serializers.Serializer):
    stage = serializers.CharField()
    count = serializers.IntegerField()


class EnrollmentsByStatus(serializers.Serializer):
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    dropped = serializers.IntegerField()


class ProgramAnalyticsOutput(serializers.Serializer):
    """The documented headline keys; every family adds its own (see docs/kpis.md)."""

    enrollments_by_status = EnrollmentsByStatus()
    completion_rate = serializers.FloatField(allow_null=True)
    drop_rate = serializers.FloatField(allow_null=True)
    acceptance_rate = serializers.FloatField(allow_null=True)
    attendance_rate = serializers.FloatField(allow_null=True)
    review_sla_compliance = serializers.FloatField(allow_null=True)
    funnel = StageCount(many=True)
    conversion = serializers.ListField(child=serializers.DictField())
    time_to_decision_days = serializers.DictField(child=serializers.FloatField(allow_null=True))
    cohort_fill = serializers.ListField(child=serializers.DictField())
    campaign_progress = serializers.ListField(child=serializers.DictField())


class ProgramRow(serializers.Serializer):
    program_id = serializers.UUIDField()
    program_name = serializers.CharField()
    applied = serializers.IntegerField()
    submitted = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    accepted = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    dropped = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)
    drop_rate = serializers.FloatField(allow_null=True)
    acceptance_rate = serializers.FloatField(allow_null=True)
    attendance_rate = serializers.FloatField(allow_null=True)
    review_sla_compliance = serializers.FloatField(allow_null=True)


class TotalsRow(ProgramRow):
    program_id = None
    program_name = None


class CrossProgramOutput(serializers.Serializer):
    programs = ProgramRow(many=True)
    totals = TotalsRow()


class _AnalyticsApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]
    renderer_classes = [JSONRenderer, CSVRenderer]

    def handle_exception(self, exc):
        # Errors are problem details in JSON, whatever format the request asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def parse_scope(self, request, program: Program | None) -> Scope:
        data = ScopeInput(data={key: value for key, value in request.query_params.items() if key != "format"})
        data.is_valid(raise_exception=True)
        params = data.validated_data
        errors = scope_errors(program=program, campaign_id=params.get("campaign"), cohort_id=params.get("cohort"))
        if errors:
            raise ValidationFailed(errors=errors)
        return Scope(
            program_ids=(program.pk,) if program is not None else (),
            date_from=params.get("from"),
            date_to=params.get("to"),
            campaign_id=params.get("campaign"),
            cohort_id=params.get("cohort"),
        )

    def wants_csv(self, request) -> bool:
        return getattr(request.accepted_renderer, "format", None) == "csv"

    def csv_response(self, rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response:
        response = Response({"columns": columns, "rows": rows})
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ProgramAnalyticsApi(_AnalyticsApi):
    @extend_schema(
        operation_id="admin_program_analytics",
        description="Every metric of the program over the date range (on the day applications were "
        "started and enrollments enrolled), optionally for one campaign or cohort of the program. "
        "Formulas: docs/kpis.md. With `format=csv` (or `Accept: text/csv`) the funnel as CSV.",
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("campaign", OpenApiTypes.UUID, description="A campaign of the program."),
            OpenApiParameter("cohort", OpenApiTypes.UUID, description="A cohort of the program."),
            FORMAT_PARAMETER,
        ],
        responses={
            (200, "application/json"): ProgramAnalyticsOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Funnel: stage, count, conversion."),
        },
        tags=TAGS,
    )
    def get(self, request, program_id):
        program = Program.objects.filter(pk=program_id).first()
        if program is None:
            raise NotFound("No program with this id.")
        values = program_analytics(self.parse_scope(request, program))
        if self.wants_csv(request):
            rates = {row["stage"]: row["rate"] for row in values["conversion"]}
            rows = [{**row, "conversion": rates[row["stage"]]} for row in values["funnel"]]
            return self.csv_response(rows, ["stage", "count", "conversion"], f"analytics-{program.pk}-funnel.csv")
        return Response(values)


class CrossProgramAnalyticsApi(_AnalyticsApi):
    @extend_schema(
        operation_id="admin_analytics_overview",
        description="Headline figures per program over the date range and the totals over every "
        "program. With `format=csv` (or `Accept: text/csv`) one CSV line per program and a totals line.",
        parameters=[*SCOPE_PARAMETERS, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): CrossProgramOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One line per program, then totals."),
        },
        tags=TAGS,
    )
    def get(self, request):
        params = ScopeInput(data={key: value for key, value in request.query_params.items() if key != "format"})
        params.is_valid(raise_exception=True)
        for key in ("campaign", "cohort"):
            if key in params.validated_data:
                raise ValidationFailed(errors={key: "Filter one program's analytics by campaign or cohort."})
        values = cross_program_analytics(
            Scope(date_from=params.validated_data.get("from"), date_to=params.validated_data.get("to"))
        )
        if self.wants_csv(request):
            columns = list(ProgramRow().fields)
            rows = [*values["programs"], {"program_id": "", "program_name": "Total", **values["totals"]}]
            return self.csv_response(rows, columns, "analytics-programs.csv")
        return Response(values)
