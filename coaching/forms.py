"""Forms of the "My game plan" page and the coach admin. They parse what people type (times in the
viewer's time zone); the rules live in `coaching.services`, whose field errors are put back on
these forms (`add_service_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms

from coaching.enums import ApplicationType
from coaching.models import ProgramTrust, Pursuit
from core.errors import DomainError

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends, in the viewer's time zone
TRUST_MESSAGE = "A number from 0 to 1."


def add_service_errors(form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's errors on the form: each field path on its field (through `aliases`),
    anything else, and the summary of an error without fields, on the form itself."""
    aliases = aliases or {}
    if not exc.errors:
        form.add_error(None, exc.detail)
        return
    for path, message in exc.errors.items():
        name = aliases.get(path, path)
        if name in form.fields:
            form.add_error(name, message)
        else:
            form.add_error(None, f"{path}: {message}")


def _local_datetime(label: str, required: bool, help_text: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
        help_text=help_text,
    )


class ExternalPursuitForm(forms.Form):
    """An opportunity outside the platform (a fellowship, grant, residency)."""

    title = forms.CharField(label="Title", max_length=200, strip=True)
    url = forms.CharField(label="Address (optional)", required=False, max_length=500, help_text="https://...")
    deadline = _local_datetime("Deadline (optional)", False, "In your time zone.")
    award_amount = forms.DecimalField(
        label="Award amount (optional)", required=False, widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"})
    )
    award_currency = forms.CharField(
        label="Currency", required=False, max_length=3, help_text="ISO 4217 code, e.g. EUR."
    )
    application_type = forms.ChoiceField(
        label="What the application asks for",
        required=False,
        choices=[("", "Not sure yet"), *ApplicationType.choices],
    )
    trust_score = forms.FloatField(
        label="How much do you trust this opportunity? (optional)",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.1", "min": "0", "max": "1"}),
        help_text="From 0 (doubtful) to 1 (certain it is genuine); 0.5 when left empty.",
    )

    def clean_award_currency(self) -> str:
        return (self.cleaned_data.get("award_currency") or "").strip().upper()

    def service_data(self) -> dict[str, Any]:
        """The service's input: every field, empty ones as the service's "nothing" (None or "")."""
        data = dict(self.cleaned_data)
        data["url"] = (data.get("url") or "").strip()
        return data


class SnoozeForm(forms.Form):
    until = _local_datetime("Snooze nudges until", True, "In your time zone; before your nearest deadline.")


# --- Admin --------------------------------------------------------------------------------------


class PursuitAdminForm(forms.ModelForm):
    """The one field an operator may change: the trust score of an external pursuit (saved through
    `pursuit_update`)."""

    trust_score = forms.FloatField(
        required=False,
        label="Trust score",
        help_text="0-1; empty gives the default for external opportunities (0.5).",
        error_messages={"min_value": TRUST_MESSAGE, "max_value": TRUST_MESSAGE},
        min_value=0,
        max_value=1,
    )

    class Meta:
        model = Pursuit
        fields = ["trust_score"]


class ProgramTrustAdminForm(forms.ModelForm):
    trust_score = forms.FloatField(
        label="Trust score",
        help_text="0-1: how much the coach trusts this program's opportunities (0.8 without a row).",
        error_messages={"min_value": TRUST_MESSAGE, "max_value": TRUST_MESSAGE},
        min_value=0,
        max_value=1,
    )

    class Meta:
        model = ProgramTrust
        fields = ["program", "trust_score"]
