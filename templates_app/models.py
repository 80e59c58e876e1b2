from django.db import models

from core.models import BaseModel
from templates_app.enums import TemplateCategory, TemplateStatus


def default_enrollment_states() -> list[str]:
    return ["active", "completed", "dropped"]


class ProgramTemplate(BaseModel):
    """A reusable, versioned program definition: the config schema and defaults every program
    made from it inherits, and the program-type facts of source 001's common interface."""

    template_key = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=30, choices=TemplateCategory.choices, db_index=True)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT, db_index=True
    )
    default_config = models.JSONField(default=dict, blank=True)
    config_schema = models.JSONField(default=dict, blank=True)
    deprecated_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="deprecates"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    deprecated_at = models.DateTimeField(null=True, blank=True)

    # Program-type facts (source 001 "Common Interface").
    roles = models.JSONField(default=list, blank=True, help_text='[{"role": ..., "platform_role": ...}]')
    enrollment_states = models.JSONField(default=default_enrollment_states, blank=True)
    supports_matching = models.BooleanField(default=False)
    activity_types = models.JSONField(default=list, blank=True)
    metrics_tracked = models.JSONField(default=list, blank=True)
    contributes_to_vis = models.BooleanField(default=False)
    contributes_to_sroi = models.BooleanField(default=False)
    vis_components = models.JSONField(default=dict, blank=True)
    sroi_dimensions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["template_key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template_key", "version"], name="template_key_version_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="template_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.template_key} v{self.version}, {self.status})"

    @property
    def role_names(self) -> list[str]:
        return [r.get("role") for r in self.roles if isinstance(r, dict) and r.get("role")]
