"""Output shapes shared by the applicant and the admin API."""

from __future__ import annotations

from rest_framework import serializers

from applications.models import Application, Review, WaitlistOffer


class FieldDefinition(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    help_text = serializers.CharField(allow_blank=True)
    type = serializers.CharField()
    required = serializers.BooleanField()
    options = serializers.ListField(child=serializers.JSONField())
    min = serializers.JSONField(allow_null=True)
    max = serializers.JSONField(allow_null=True)
    max_length = serializers.IntegerField(allow_null=True)
    max_words = serializers.IntegerField(allow_null=True)
    reviewer_visible = serializers.BooleanField()


class TrackOutput(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class CriterionDefinition(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    weight = serializers.FloatField()
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    independent = serializers.BooleanField()
    tracks = serializers.ListField(child=serializers.CharField())


class OfferOutput(serializers.ModelSerializer):
    class Meta:
        model = WaitlistOffer
        fields = ["id", "status", "expires_at", "responded_at"]


class TimelineEntry(serializers.Serializer):
    at = serializers.DateTimeField()
    event = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class MyApplicationOutput(serializers.ModelSerializer):
    program_id = serializers.UUIDField(read_only=True)
    track_id = serializers.UUIDField(read_only=True, allow_null=True)
    form_version = serializers.IntegerField(source="form.version", read_only=True)
    answers = serializers.DictField()
    open_offer = OfferOutput(allow_null=True, read_only=True)
    timeline = TimelineEntry(many=True, read_only=True)
    can_edit = serializers.BooleanField(read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "program_id",
            "track_id",
            "form_version",
            "answers",
            "status",
            "submitted_at",
            "decided_at",
            "decision_reason",
            "info_request",
            "last_progress_at",
            "open_offer",
            "timeline",
            "can_edit",
            "created_at",
            "updated_at",
        ]


class ApplicantOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField(allow_blank=True)


class ReviewOutput(serializers.ModelSerializer):
    reviewer_id = serializers.UUIDField(read_only=True)
    rubric_version = serializers.IntegerField(source="rubric.version", read_only=True)
    scores = serializers.DictField()

    class Meta:
        model = Review
        fields = [
            "id",
            "reviewer_id",
            "rubric_version",
            "scores",
            "weighted_total",
            "recommendation",
            "comment",
            "comment_to_applicant",
            "submitted_at",
        ]
