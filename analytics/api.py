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

from analytics.impact import program_impact
from analytics.scope import Scope
from analytics.selectors import cross_program_analytics, program_analytics, scope_errors
from analytics.snapshots import SNAPSHOT_KEYS, program_series
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


class SeriesPoint(serializers.Serializer):
    """One day's snapshot (docs/kpis.md, "Snapshots")."""

    day = serializers.DateField()
    applied = serializers.IntegerField()
    submitted = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    accepted = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    dropped = serializers.IntegerField()
    sessions_delivered = serializers.IntegerField()
    matches_active = serializers.IntegerField()
    outcomes = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)
    drop_rate = serializers.FloatField(allow_null=True)
    acceptance_rate = serializers.FloatField(allow_null=True)
    attendance_rate = serializers.FloatField(allow_null=True)
    review_sla_compliance = serializers.FloatField(allow_null=True)


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
    series = SeriesPoint(many=True, help_text="Daily snapshots in the date range (campaign or cohort when given).")


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


def _scope_params(request) -> dict[str, str]:
    return {key: value for key, value in request.query_params.items() if key not in ("format", "table")}


class _AnalyticsApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]
    renderer_classes = [JSONRenderer, CSVRenderer]

    def handle_exception(self, exc):
        # Errors are problem details in JSON, whatever format the request asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def parse_scope(self, request, program: Program | None) -> Scope:
        data = ScopeInput(data=_scope_params(request))
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


def _amounts(amounts: dict[str, str]) -> str:
    return "; ".join(f"{currency} {amount}".strip() for currency, amount in sorted(amounts.items()))


def _funnel_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    rates = {row["stage"]: row["rate"] for row in values["conversion"]}
    return [{**row, "conversion": rates[row["stage"]]} for row in values["funnel"]]


# The program's tables, for `?format=csv&table=`: name -> (columns, rows out of the analytics values).
PROGRAM_TABLES: dict[str, tuple[list[str], Any]] = {
    "funnel": (["stage", "count", "conversion"], _funnel_rows),
    "series": (["day", *SNAPSHOT_KEYS], lambda values: values["series"]),
    "cohort_fill": (["cohort_id", "cohort_name", "capacity", "members", "fill_rate"], lambda v: v["cohort_fill"]),
    "campaign_progress": (
        [
            "campaign_id",
            "campaign_name",
            "enrolled",
            "target_enrollment",
            "max_enrollment",
            "target_progress",
            "max_fill_rate",
            "budget_amount",
            "budget_currency",
            "budget_per_enrollment",
        ],
        lambda v: v["campaign_progress"],
    ),
    "funnel_by_campaign": (
        ["campaign_id", "campaign_name", "enrolled", "active", "completed"],
        lambda v: v["funnel_by_campaign"],
    ),
    "funnel_by_cohort": (
        ["cohort_id", "cohort_name", "enrolled", "active", "completed"],
        lambda v: v["funnel_by_cohort"],
    ),
    "outcomes": (
        ["outcome_type", "count", "amounts"],
        lambda v: [{**row, "amounts": _amounts(row["amounts"])} for row in v["outcomes_by_type"]],
    ),
}

TABLE_PARAMETER = OpenApiParameter(
    "table",
    OpenApiTypes.STR,
    enum=list(PROGRAM_TABLES),
    description="With `format=csv`: which table (default `funnel`).",
)


def _table_name(request, tables: dict[str, Any], default: str) -> str:
    name = request.query_params.get("table", default)
    if name not in tables:
        raise ValidationFailed(errors={"table": f"Unknown table '{name}'. Tables: {', '.join(tables)}."})
    return name


class ProgramAnalyticsApi(_AnalyticsApi):
    @extend_schema(
        operation_id="admin_program_analytics",
        description="Every metric of the program over the date range (on the day applications were "
        "started and enrollments enrolled), optionally for one campaign or cohort of the program, and "
        "the daily snapshots in the range as `series`. Formulas: docs/kpis.md. With `format=csv` (or "
        "`Accept: text/csv`) one table as CSV, chosen by `table` (default: the funnel).",
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("campaign", OpenApiTypes.UUID, description="A campaign of the program."),
            OpenApiParameter("cohort", OpenApiTypes.UUID, description="A cohort of the program."),
            FORMAT_PARAMETER,
            TABLE_PARAMETER,
        ],
        responses={
            (200, "application/json"): ProgramAnalyticsOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The table named by `table`."),
        },
        tags=TAGS,
    )
    def get(self, request, program_id):
        program = Program.objects.filter(pk=program_id).first()
        if program is None:
            raise NotFound("No program with this id.")
        table = _table_name(request, PROGRAM_TABLES, "funnel")
        scope = self.parse_scope(request, program)
        values = program_analytics(scope)
        values["series"] = program_series(scope)
        if self.wants_csv(request):
            columns, rows = PROGRAM_TABLES[table]
            return self.csv_response(rows(values), columns, f"analytics-{program.pk}-{table}.csv")
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
        params = ScopeInput(data=_scope_params(request))
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


# --- impact: VIS and SROI -------------------------------------------------------------------------


class VolunteerImpactRow(serializers.Serializer):
    user_id = serializers.UUIDField()
    email = serializers.EmailField()
    program_id = serializers.UUIDField()
    program = serializers.CharField()
    hours = serializers.FloatField()
    weighted_hours = serializers.FloatField()
    checkins = serializers.IntegerField()
    quality = serializers.FloatField()
    outcome_lift = serializers.FloatField()
    vis = serializers.FloatField()


class ProgramImpactRow(serializers.Serializer):
    program_id = serializers.UUIDField()
    program = serializers.CharField()
    volunteers = serializers.IntegerField()
    weighted_hours = serializers.FloatField()
    vis = serializers.FloatField()


class SroiDimension(serializers.Serializer):
    dimension = serializers.CharField()
    units = serializers.CharField(help_text="Decimal string.")
    coefficient = serializers.CharField()
    value = serializers.CharField(help_text="Money, decimal string to the cent.")


class SroiProgram(serializers.Serializer):
    program_id = serializers.UUIDField()
    program = serializers.CharField()
    currency = serializers.CharField(help_text="ISO 4217; empty when the program has no SROI coefficients.")
    dimensions = SroiDimension(many=True)
    total = serializers.CharField()


class Sroi(serializers.Serializer):
    programs = SroiProgram(many=True)
    totals = serializers.DictField(child=serializers.CharField(), help_text="Currency -> total value.")


class ImpactOutput(serializers.Serializer):
    volunteers = VolunteerImpactRow(many=True)
    programs = ProgramImpactRow(many=True)
    sroi = Sroi()


def _sroi_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"program_id": p["program_id"], "program": p["program"], "currency": p["currency"], **dimension}
        for p in values["sroi"]["programs"]
        for dimension in p["dimensions"]
    ]


IMPACT_TABLES: dict[str, tuple[list[str], Any]] = {
    "volunteers": (list(VolunteerImpactRow().fields), lambda v: v["volunteers"]),
    "programs": (list(ProgramImpactRow().fields), lambda v: v["programs"]),
    "sroi": (["program_id", "program", "currency", "dimension", "units", "coefficient", "value"], _sroi_rows),
}
IMPACT_TABLE_PARAMETER = OpenApiParameter(
    "table",
    OpenApiTypes.STR,
    enum=list(IMPACT_TABLES),
    description="With `format=csv`: which table (default `volunteers`).",
)
IMPACT_DESCRIPTION = (
    "Volunteer impact (VIS) per volunteer and program, program totals, and social return (SROI) per "
    'dimension, over the date range (docs/kpis.md, "Impact"). With `format=csv` one table, chosen by `table`.'
)


class _ImpactApi(_AnalyticsApi):
    def respond(self, request, scope: Scope, filename: str) -> Response:
        table = _table_name(request, IMPACT_TABLES, "volunteers")
        values = program_impact(scope)
        if self.wants_csv(request):
            columns, rows = IMPACT_TABLES[table]
            return self.csv_response(rows(values), columns, f"{filename}-{table}.csv")
        return Response(values)


class ProgramImpactApi(_ImpactApi):
    @extend_schema(
        operation_id="admin_program_impact",
        description=IMPACT_DESCRIPTION,
        parameters=[*SCOPE_PARAMETERS, FORMAT_PARAMETER, IMPACT_TABLE_PARAMETER],
        responses={
            (200, "application/json"): ImpactOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The table named by `table`."),
        },
        tags=TAGS,
    )
    def get(self, request, program_id):
        program = Program.objects.filter(pk=program_id).first()
        if program is None:
            raise NotFound("No program with this id.")
        _table_name(request, IMPACT_TABLES, "volunteers")
        params = ScopeInput(data=_scope_params(request))
        params.is_valid(raise_exception=True)
        for key in ("campaign", "cohort"):
            if key in params.validated_data:
                raise ValidationFailed(errors={key: "Impact is computed per program, not per campaign or cohort."})
        scope = Scope(
            program_ids=(program.pk,),
            date_from=params.validated_data.get("from"),
            date_to=params.validated_data.get("to"),
        )
        return self.respond(request, scope, f"impact-{program.pk}")


class CrossProgramImpactApi(_ImpactApi):
    @extend_schema(
        operation_id="admin_analytics_impact",
        description=IMPACT_DESCRIPTION + " Across every program.",
        parameters=[*SCOPE_PARAMETERS, FORMAT_PARAMETER, IMPACT_TABLE_PARAMETER],
        responses={
            (200, "application/json"): ImpactOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The table named by `table`."),
        },
        tags=TAGS,
    )
    def get(self, request):
        _table_name(request, IMPACT_TABLES, "volunteers")
        params = ScopeInput(data=_scope_params(request))
        params.is_valid(raise_exception=True)
        for key in ("campaign", "cohort"):
            if key in params.validated_data:
                raise ValidationFailed(errors={key: "Impact is computed per program, not per campaign or cohort."})
        scope = Scope(date_from=params.validated_data.get("from"), date_to=params.validated_data.get("to"))
        return self.respond(request, scope, "impact")
