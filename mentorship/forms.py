"""Forms of the mentorship pages and admin screens. They parse what people type; the rules live in
the services, whose field errors are put back on these forms (`add_service_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from core.errors import DomainError
from mentorship.enums import EndReason, ProfileKind
from mentorship.models import Profile
from mentorship.services.profiles import LIST_FIELDS, profile_errors

SCALE = [(value, str(value)) for value in range(1, 6)]
MOODS = [(1, "1 · rough"), (2, "2"), (3, "3 · okay"), (4, "4"), (5, "5 · great")]


def add_service_errors(form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's errors on the form: each field path on its field (through `aliases`, e.g.
    `mentor_id` -> `mentor`), anything else, and the summary of an error without fields, on the
    form itself."""
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


def user_label(user: Any) -> str:
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


# --- Pages --------------------------------------------------------------------------------------


class CheckInForm(forms.Form):
    mood = forms.TypedChoiceField(
        choices=MOODS, coerce=int, widget=forms.RadioSelect, label="How is it going?", help_text="1 rough, 5 great."
    )
    notes = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Notes (optional)"
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=SCALE, coerce=int, widget=forms.RadioSelect, label="Your rating", help_text="1 poor, 5 excellent."
    )
    comment = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Comment (optional)"
    )


# --- Admin --------------------------------------------------------------------------------------


class EndMatchForm(forms.Form):
    end_reason = forms.ChoiceField(choices=[("", "Choose")] + list(EndReason.choices), label="Why it ends")
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        label="Note",
        help_text="Recorded in the audit trail with the end reason.",
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


class ManualMatchForm(forms.Form):
    """Pair a mentor and a mentee of one program by hand (the people with a profile on each side)."""

    mentor = PersonChoiceField(queryset=get_user_model().objects.none(), label="Mentor")
    mentee = PersonChoiceField(queryset=get_user_model().objects.none(), label="Mentee")
    reason = forms.CharField(
        required=False,  # the service answers "Say why ..." (the same message as the API)
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        label="Reason",
        help_text="Why this pair is made by hand; recorded in the audit trail.",
    )

    def __init__(self, *args, program, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.order_by("full_name", "email")
        for name, kind in (("mentor", ProfileKind.MENTOR), ("mentee", ProfileKind.MENTEE)):
            self.fields[name].queryset = users.filter(
                mentorship_profiles__program=program, mentorship_profiles__kind=kind
            ).distinct()


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class ProfileAdminForm(forms.ModelForm):
    """A profile as an operator edits it: lists as comma-separated text, people to avoid by
    e-mail. Validation is the service's (`profile_errors`), so the admin and the API agree."""

    skills = forms.CharField(required=False, help_text="Comma-separated. Mentors: offered; mentees: wanted.")
    languages = forms.CharField(required=False, help_text="Comma-separated ISO 639-1 codes, e.g. en, uk, pl.")
    industries = forms.CharField(required=False, help_text="Comma-separated.")
    goals = forms.CharField(required=False, help_text="Comma-separated.")
    avoid = forms.CharField(
        required=False, label="People to avoid", help_text="Comma-separated e-mail addresses; never paired with them."
    )

    class Meta:
        model = Profile
        fields = ["user", "program", "kind", "capacity", "timezone", "bio", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if not instance._state.adding:
            for name in LIST_FIELDS:
                self.initial[name] = ", ".join(getattr(instance, name) or [])
            emails = (
                get_user_model().objects.filter(pk__in=instance.avoid_user_ids or []).values_list("email", flat=True)
            )
            self.initial["avoid"] = ", ".join(sorted(emails))
        if "timezone" in self.fields:
            self.fields["timezone"].help_text = "IANA time zone, e.g. Europe/Kyiv."

    def clean(self):
        cleaned = super().clean()
        adding = self.instance._state.adding
        user = cleaned.get("user") if adding else self.instance.user
        program = cleaned.get("program") if adding else self.instance.program
        kind = cleaned.get("kind") if adding else self.instance.kind
        if user is None or program is None or not kind:
            return cleaned
        data: dict[str, Any] = {name: _split(cleaned.get(name, "")) for name in LIST_FIELDS}
        emails = _split(cleaned.get("avoid", ""))
        found = dict(get_user_model().objects.filter(email__in=[e.lower() for e in emails]).values_list("email", "pk"))
        unknown = [e for e in emails if e.lower() not in found]
        if unknown:
            self.add_error("avoid", f"No user with the e-mail {', '.join(unknown[:5])}.")
        data["avoid_user_ids"] = [str(found[e.lower()]) for e in emails if e.lower() in found]
        for name in ("timezone", "bio", "active"):
            if name in cleaned:
                data[name] = cleaned[name]
        if kind == ProfileKind.MENTOR and cleaned.get("capacity") is not None:
            data["capacity"] = cleaned["capacity"]
        from mentorship.services.common import supports_matching

        if not supports_matching(program):
            self.add_error("program", "This program's template does not support matching.")
            return cleaned
        errors, _ = profile_errors(program, user, kind, data)
        for path, message in errors.items():
            name = path.split("[", 1)[0]
            name = "avoid" if name == "avoid_user_ids" else name
            self.add_error(name if name in self.fields else None, message)
        self.profile_data = data
        return cleaned
