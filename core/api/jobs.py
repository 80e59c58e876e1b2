"""The jobs API: list the registered jobs, run one now, and read the recorded runs."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.db.models import Max
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsOperatorOrIntegrator
from core.errors import ValidationFailed
from core.jobs import job_registry, run_job
from core.models import JobRun

TAGS = ["admin: jobs"]


class JobRunOutput(serializers.ModelSerializer):
    triggered_by = serializers.UUIDField(source="triggered_by_id", allow_null=True, read_only=True)
    duration_seconds = serializers.FloatField(allow_null=True, read_only=True)
    counts = serializers.DictField(child=serializers.IntegerField())

    class Meta:
        model = JobRun
        fields = [
            "id",
            "job",
            "trigger",
            "triggered_by",
            "status",
            "started_at",
            "finished_at",
            "duration_seconds",
            "counts",
            "progress",
            "error",
        ]


class JobOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    schedule = serializers.DictField(allow_null=True)
    last_run = JobRunOutput(allow_null=True)


class JobListApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(operation_id="admin_jobs_list", responses={200: JobOutput(many=True)}, tags=TAGS)
    def get(self, request):
        jobs = job_registry()
        latest = JobRun.objects.filter(job__in=jobs).values("job").annotate(at=Max("started_at"))
        last: dict[str, JobRun] = {}
        for run in JobRun.objects.filter(
            started_at__in=[row["at"] for row in latest], job__in=[row["job"] for row in latest]
        ).order_by("-started_at"):
            last.setdefault(run.job, run)
        rows = [
            {
                "name": name,
                "description": job.description,
                "schedule": settings.JOB_SCHEDULE.get(name),
                "last_run": last.get(name),
            }
            for name, job in jobs.items()
        ]
        return Response(JobOutput(rows, many=True).data)


class JobRunApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    class Input(serializers.Serializer):
        job = serializers.CharField(max_length=100)

        class Meta:
            ref_name = "JobRunRequest"

    @extend_schema(
        operation_id="admin_jobs_run",
        description="Run a job now and answer with its finished run (status `succeeded` or "
        "`failed` with the error). A run of the same job already in progress answers 409 naming it.",
        request=Input,
        responses={200: JobRunOutput},
        tags=TAGS,
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        name = data.validated_data["job"]
        if name not in job_registry():
            raise ValidationFailed(errors={"job": f"No job named '{name}'. Jobs: {', '.join(job_registry())}."})
        run = run_job(name, trigger=JobRun.Trigger.API, user=request.user)
        return Response(JobRunOutput(run).data)


class JobRunFilter(django_filters.FilterSet):
    job = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=JobRun.Status.choices)
    trigger = django_filters.ChoiceFilter(choices=JobRun.Trigger.choices)

    class Meta:
        model = JobRun
        fields = ["job", "status", "trigger"]


class JobRunListApi(ListAPIView):
    permission_classes = [IsOperatorOrIntegrator]
    serializer_class = JobRunOutput
    filterset_class = JobRunFilter
    queryset = JobRun.objects.order_by("-started_at", "id")

    @extend_schema(operation_id="admin_job_runs_list", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class JobRunDetailApi(APIView):
    permission_classes = [IsOperatorOrIntegrator]

    @extend_schema(operation_id="admin_job_runs_retrieve", responses={200: JobRunOutput}, tags=TAGS)
    def get(self, request, run_id):
        return Response(JobRunOutput(get_object_or_404(JobRun, pk=run_id)).data)
