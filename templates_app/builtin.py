"""The built-in program templates: the four program types of source 001 (mentorship, buddy,
language, upskilling) and the program kinds of source 000 (fee waivers, Career Lab, Pitch Week,
live reads). Each carries a real config schema; `templates_seed_builtin` publishes them."""

from __future__ import annotations

from typing import Any

FREQUENCIES = ["once", "daily", "weekly", "biweekly", "monthly"]


def _int(minimum: int, maximum: int, description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, "description": description}


def _num(minimum: float, maximum: float, description: str) -> dict[str, Any]:
    return {"type": "number", "minimum": minimum, "maximum": maximum, "description": description}


def _obj(properties: dict[str, Any], required: list[str] | None = None, description: str = "") -> dict:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


SESSION = _obj(
    {
        "default_duration_minutes": _int(15, 480, "Length of one session."),
        "recommended_frequency": {"enum": FREQUENCIES, "description": "How often sessions happen."},
        "max_sessions": _int(1, 200, "Sessions offered per participant or pair."),
        "online": {"type": "boolean", "description": "Sessions use a video-conference link."},
    },
    ["default_duration_minutes", "recommended_frequency"],
    "Session length and rhythm.",
)

APPLICATION = _obj(
    {
        "requires_application": {"type": "boolean"},
        "allow_edit_after_submit": {
            "type": "boolean",
            "description": "Submitted answers may be edited until the window closes.",
        },
        "review_sla_days": _int(1, 90, "Days a review may take before reminders go out."),
        "reviewers_per_application": _int(1, 10, "Independent reviews wanted per application."),
        "blind_review": {"type": "boolean", "description": "Hide applicant identity from reviewers."},
        "hide_other_reviews": {
            "type": "boolean",
            "description": "Reviewers see others' scores only after submitting their own.",
        },
        "escalate_after_days": _int(1, 60, "Days past a review's deadline before operators are alerted."),
        "offer_response_days": _int(1, 30, "Days a waitlisted applicant has to take an offered place."),
        "quota_field": {
            "type": "string",
            "description": "Key of a single-choice form field whose answers have quotas (e.g. a group).",
        },
        "quotas": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "description": "Most acceptances per answer of the quota field.",
        },
        "include_reviewer_comments": {
            "type": "boolean",
            "description": "Decision e-mails include reviewers' comments to the applicant.",
        },
    },
    ["requires_application"],
    "Application and review rules.",
)

MATCHING = _obj(
    {
        "enabled": {"type": "boolean"},
        "max_mentees_per_mentor": _int(1, 50, "Capacity of one mentor/buddy/tutor."),
        "require_human_approval": {
            "const": True,
            "description": "Proposed matches always wait for an operator's approval.",
        },
        "weights": _obj(
            {
                "language": _num(0, 1, "Shared language."),
                "skills": _num(0, 1, "Overlap of wanted and offered skills."),
                "timezone": _num(0, 1, "Overlap of availability across time zones."),
                "industry": _num(0, 1, "Same or related industry."),
                "goals": _num(0, 1, "Fit of stated goals."),
                "availability": _num(0, 1, "Hours a week both are free at the same time."),
            },
            description="Relative weight of each match criterion.",
        ),
        "min_score": _num(0, 1, "Pairs scoring below this are never proposed."),
        "hard_constraints": _obj(
            {
                "shared_language": {
                    "type": "boolean",
                    "description": "Pairs must share a language (when the mentee states languages).",
                },
                "max_timezone_hours": _int(0, 12, "Pairs at most this many hours apart."),
            },
            description="Rules no proposal breaks.",
        ),
        "fairness": _num(0, 1, "Spread mentees across mentors: each further place of a mentor costs 0.1 x this."),
        "availability_target_hours": _num(0.5, 40, "Weekly shared free hours that count as a perfect fit."),
        "self_accept": {
            "enum": ["none", "mentor", "mentee", "both"],
            "description": "Who, besides operators, may accept a proposal (both: each must accept).",
        },
    },
    ["enabled"],
    "Matching rules.",
)

COMPLETION = _obj(
    {
        "duration_weeks": _int(1, 104, "Planned length of participation."),
        "min_sessions_attended": _int(0, 200, "Sessions a participant must attend."),
        "min_attendance_rate": _num(0, 1, "Share of sessions that must be attended."),
        "requires_final_feedback": {"type": "boolean"},
        "inactivity_drop_days": _int(7, 730, "Days without activity before an enrollment is dropped."),
    },
    ["duration_weeks"],
    "When an enrollment counts as completed.",
)

REMINDERS = _obj(
    {
        "session_hours_before": {
            "type": "array",
            "items": _int(1, 336, "Hours before a session start."),
            "uniqueItems": True,
            "maxItems": 5,
        },
        "application_deadline_days_before": {
            "type": "array",
            "items": _int(1, 60, "Days before the application window closes."),
            "uniqueItems": True,
            "maxItems": 5,
        },
    },
    description="When reminders go out.",
)

SROI = _obj(
    {
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code."},
        "coefficients": {
            "type": "object",
            "additionalProperties": {"type": "number", "minimum": 0},
            "description": "Social value per unit of each SROI dimension.",
        },
    },
    ["currency", "coefficients"],
    "Social return on investment coefficients.",
)

VIS = _obj(
    {
        "weights": _obj(
            {
                "hosted": _num(0, 10, "Weight of an hour hosting a delivered session."),
                "attended": _num(0, 10, "Weight of an hour taking part in a session someone else hosted."),
                "event": _num(0, 10, "Weight of an hour at an event."),
                "session": _num(0, 10, "Weight of an hour of a partner session."),
                "checkin": _num(0, 10, "Weight of an hour of check-ins (valued at checkin_minutes each)."),
            },
            description="Hour weights of the volunteer impact score (defaults: hosted 1.5, others 1).",
        ),
        "checkin_minutes": _int(1, 240, "Minutes one check-in is worth (default 15)."),
    },
    description="Volunteer impact score (VIS) settings, docs/kpis.md.",
)


def schema_for(*extra_sections: tuple[str, dict[str, Any], bool]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "session": SESSION,
        "application": APPLICATION,
        "completion": COMPLETION,
        "reminders": REMINDERS,
        "sroi": SROI,
        "vis": VIS,
    }
    required = ["session", "application", "completion"]
    for name, schema, is_required in extra_sections:
        properties[name] = schema
        if is_required:
            required.append(name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _matching_config(capacity: int, weights: dict[str, float], min_score: float = 0.3) -> dict:
    return {
        "enabled": True,
        "max_mentees_per_mentor": capacity,
        "require_human_approval": True,
        "weights": weights,
        "min_score": min_score,
    }


_STANDARD_REMINDERS = {"session_hours_before": [24, 1], "application_deadline_days_before": [7, 1]}
_NO_MATCHING = {"enabled": False}

BUILTIN_TEMPLATES: list[dict[str, Any]] = [
    {
        "template_key": "mentorship-standard",
        "name": "Mentorship",
        "category": "mentorship",
        "description": "One-to-one mentoring: mentees apply, operators approve proposed matches, "
        "pairs meet regularly and report progress.",
        "roles": [
            {"role": "mentee", "platform_role": "beneficiary"},
            {"role": "mentor", "platform_role": "volunteer"},
        ],
        "supports_matching": True,
        "activity_types": ["session", "feedback", "milestone"],
        "metrics_tracked": ["match_count", "sessions_completed", "hours_mentored", "feedback_rating"],
        "contributes_to_vis": True,
        "contributes_to_sroi": True,
        "vis_components": {
            "weighted_hours": True,
            "quality_score": True,
            "outcome_lift": True,
            "placement_impact": True,
        },
        "sroi_dimensions": {"job_readiness": True, "integration_score": True, "language_proficiency": False},
        "schema_extra": [("matching", MATCHING, True)],
        "default_config": {
            "session": {
                "default_duration_minutes": 60,
                "recommended_frequency": "biweekly",
                "max_sessions": 12,
                "online": True,
            },
            "application": {
                "requires_application": True,
                "allow_edit_after_submit": False,
                "review_sla_days": 7,
                "reviewers_per_application": 2,
                "blind_review": False,
            },
            "matching": _matching_config(
                2, {"language": 0.3, "skills": 0.3, "timezone": 0.2, "industry": 0.1, "goals": 0.1}
            ),
            "completion": {
                "duration_weeks": 24,
                "min_sessions_attended": 6,
                "min_attendance_rate": 0.6,
                "requires_final_feedback": True,
                "inactivity_drop_days": 90,
            },
            "reminders": _STANDARD_REMINDERS,
            "sroi": {"currency": "EUR", "coefficients": {"job_readiness": 1200, "integration_score": 400}},
        },
    },
    {
        "template_key": "buddy-standard",
        "name": "Buddy Program",
        "category": "buddy",
        "description": "Peer support connecting participants with buddies for social integration: "
        "events, skill exchanges and wellness check-ins.",
        "roles": [
            {"role": "participant", "platform_role": "beneficiary"},
            {"role": "buddy", "platform_role": "volunteer"},
        ],
        "supports_matching": True,
        "activity_types": ["event", "skill_session", "checkin", "feedback"],
        "metrics_tracked": [
            "match_count",
            "events_attended",
            "checkins_completed",
            "skills_shared",
            "milestones_reached",
        ],
        "contributes_to_vis": True,
        "contributes_to_sroi": True,
        "vis_components": {
            "weighted_hours": True,
            "quality_score": True,
            "outcome_lift": True,
            "placement_impact": False,
        },
        "sroi_dimensions": {"integration_score": True, "language_proficiency": True, "job_readiness": True},
        "schema_extra": [
            ("matching", MATCHING, True),
            (
                "checkins",
                _obj(
                    {
                        "interval_days": _int(1, 60, "A check-in is due after this many days."),
                        "escalate_after_missed": _int(1, 10, "Missed check-ins before an operator is alerted."),
                    },
                    ["interval_days"],
                    "Wellness check-in rhythm.",
                ),
                True,
            ),
        ],
        "default_config": {
            "session": {"default_duration_minutes": 90, "recommended_frequency": "weekly", "online": False},
            "application": {"requires_application": False},
            "matching": _matching_config(1, {"language": 0.4, "timezone": 0.2, "goals": 0.4}, 0.25),
            "checkins": {"interval_days": 7, "escalate_after_missed": 2},
            "completion": {"duration_weeks": 26, "requires_final_feedback": True, "inactivity_drop_days": 180},
            "reminders": {"session_hours_before": [24]},
            "sroi": {
                "currency": "EUR",
                "coefficients": {"integration_score": 350, "language_proficiency": 500, "job_readiness": 250},
            },
        },
    },
    {
        "template_key": "language-tutoring",
        "name": "Language Tutoring",
        "category": "language",
        "description": "Learners practise a language with volunteer tutors; progress measured on the CEFR scale.",
        "roles": [
            {"role": "learner", "platform_role": "beneficiary"},
            {"role": "tutor", "platform_role": "volunteer"},
        ],
        "supports_matching": True,
        "activity_types": ["session", "assessment"],
        "metrics_tracked": ["sessions_completed", "hours_practised", "cefr_level_gain"],
        "contributes_to_vis": True,
        "contributes_to_sroi": True,
        "vis_components": {
            "weighted_hours": True,
            "quality_score": True,
            "outcome_lift": True,
            "placement_impact": False,
        },
        "sroi_dimensions": {"language_proficiency": True, "integration_score": True, "job_readiness": False},
        "schema_extra": [
            ("matching", MATCHING, True),
            (
                "language",
                _obj(
                    {
                        "target_language": {
                            "type": "string",
                            "pattern": "^[a-z]{2,3}$",
                            "description": "ISO 639 code.",
                        },
                        "assessment_scale": {"enum": ["CEFR"]},
                        "assess_every_sessions": _int(1, 50, "An assessment after this many sessions."),
                    },
                    ["target_language"],
                    "Language and assessment.",
                ),
                True,
            ),
        ],
        "default_config": {
            "session": {
                "default_duration_minutes": 45,
                "recommended_frequency": "weekly",
                "max_sessions": 20,
                "online": True,
            },
            "application": {"requires_application": False},
            "matching": _matching_config(4, {"language": 0.5, "timezone": 0.4, "goals": 0.1}),
            "language": {"target_language": "en", "assessment_scale": "CEFR", "assess_every_sessions": 10},
            "completion": {"duration_weeks": 20, "min_sessions_attended": 10, "min_attendance_rate": 0.5},
            "reminders": {"session_hours_before": [24, 1]},
            "sroi": {"currency": "EUR", "coefficients": {"language_proficiency": 500, "integration_score": 200}},
        },
    },
    {
        "template_key": "upskilling-courses",
        "name": "Upskilling",
        "category": "upskilling",
        "description": "Learners take courses with partner providers; completion and credentials are tracked.",
        "roles": [{"role": "learner", "platform_role": "beneficiary"}],
        "supports_matching": False,
        "activity_types": ["course", "progress"],
        "metrics_tracked": ["courses_started", "courses_completed", "learning_hours", "credentials_earned"],
        "contributes_to_vis": True,
        "contributes_to_sroi": True,
        "vis_components": {
            "weighted_hours": True,
            "quality_score": False,
            "outcome_lift": True,
            "placement_impact": False,
        },
        "sroi_dimensions": {"job_readiness": True, "integration_score": False, "language_proficiency": False},
        "schema_extra": [
            ("matching", MATCHING, False),
            (
                "courses",
                _obj(
                    {
                        "providers": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                        "required_courses": _int(1, 50, "Courses to complete."),
                        "credential_required": {"type": "boolean"},
                    },
                    ["providers", "required_courses"],
                    "Course providers and requirements.",
                ),
                True,
            ),
        ],
        "default_config": {
            "session": {"default_duration_minutes": 60, "recommended_frequency": "weekly", "online": True},
            "application": {"requires_application": True, "review_sla_days": 5, "reviewers_per_application": 1},
            "matching": _NO_MATCHING,
            "courses": {"providers": ["ecornell", "itslearning"], "required_courses": 2, "credential_required": False},
            "completion": {"duration_weeks": 12},
            "reminders": {"application_deadline_days_before": [3]},
            "sroi": {"currency": "EUR", "coefficients": {"job_readiness": 900}},
        },
    },
    {
        "template_key": "fee-waiver",
        "name": "Fee Waiver",
        "category": "fee_waiver",
        "description": "Writers apply for a waiver of a fee; reviewers score need and merit, "
        "operators decide within a budget.",
        "roles": [{"role": "applicant", "platform_role": "beneficiary"}],
        "supports_matching": False,
        "activity_types": ["application", "decision"],
        "metrics_tracked": ["applications", "waivers_granted", "value_waived"],
        "contributes_to_vis": False,
        "contributes_to_sroi": True,
        "vis_components": {},
        "sroi_dimensions": {"access": True},
        "schema_extra": [
            (
                "waiver",
                _obj(
                    {
                        "amount": {"type": "number", "exclusiveMinimum": 0, "description": "Value of one waiver."},
                        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "max_waivers": _int(1, 100000, "Waivers available per round."),
                        "requires_proof_of_need": {"type": "boolean"},
                    },
                    ["amount", "currency"],
                    "The waiver on offer.",
                ),
                True,
            )
        ],
        "default_config": {
            "session": {"default_duration_minutes": 30, "recommended_frequency": "once", "online": True},
            "application": {
                "requires_application": True,
                "allow_edit_after_submit": True,
                "review_sla_days": 10,
                "reviewers_per_application": 2,
                "blind_review": True,
            },
            "waiver": {"amount": 50, "currency": "USD", "max_waivers": 100, "requires_proof_of_need": False},
            "completion": {"duration_weeks": 4},
            "reminders": {"application_deadline_days_before": [7, 2]},
            "sroi": {"currency": "USD", "coefficients": {"access": 1}},
        },
    },
    {
        "template_key": "career-lab",
        "name": "Career Lab",
        "category": "career_lab",
        "description": "A cohort of workshops with industry guests: career planning, portfolio "
        "reviews and introductions.",
        "roles": [
            {"role": "participant", "platform_role": "beneficiary"},
            {"role": "facilitator", "platform_role": "volunteer"},
        ],
        "supports_matching": False,
        "activity_types": ["workshop", "portfolio_review", "introduction"],
        "metrics_tracked": ["workshops_attended", "portfolio_reviews", "introductions_made"],
        "contributes_to_vis": True,
        "contributes_to_sroi": True,
        "vis_components": {
            "weighted_hours": True,
            "quality_score": True,
            "outcome_lift": True,
            "placement_impact": True,
        },
        "sroi_dimensions": {"job_readiness": True},
        "schema_extra": [
            (
                "cohort",
                _obj(
                    {
                        "size": _int(2, 500, "Participants per cohort."),
                        "workshops": _int(1, 52, "Workshops per cohort."),
                    },
                    ["size"],
                    "Cohort shape.",
                ),
                True,
            )
        ],
        "default_config": {
            "session": {
                "default_duration_minutes": 120,
                "recommended_frequency": "weekly",
                "max_sessions": 6,
                "online": True,
            },
            "application": {"requires_application": True, "review_sla_days": 7, "reviewers_per_application": 2},
            "cohort": {"size": 20, "workshops": 6},
            "completion": {"duration_weeks": 6, "min_sessions_attended": 4, "min_attendance_rate": 0.66},
            "reminders": _STANDARD_REMINDERS,
            "sroi": {"currency": "EUR", "coefficients": {"job_readiness": 700}},
        },
    },
    {
        "template_key": "pitch-week",
        "name": "Pitch Week",
        "category": "pitch_week",
        "description": "Writers pitch to industry guests in scheduled slots across one week.",
        "roles": [
            {"role": "pitcher", "platform_role": "beneficiary"},
            {"role": "industry_guest", "platform_role": "volunteer"},
        ],
        "supports_matching": True,
        "activity_types": ["pitch_slot", "feedback"],
        "metrics_tracked": ["pitches_held", "requests_received", "feedback_rating"],
        "contributes_to_vis": True,
        "contributes_to_sroi": False,
        "vis_components": {
            "weighted_hours": True,
            "quality_score": True,
            "outcome_lift": False,
            "placement_impact": True,
        },
        "sroi_dimensions": {},
        "schema_extra": [
            ("matching", MATCHING, True),
            (
                "pitching",
                _obj(
                    {
                        "slot_minutes": _int(5, 60, "Length of one pitch slot."),
                        "pitches_per_writer": _int(1, 20, "Slots each writer gets."),
                        "buffer_minutes": _int(0, 30, "Gap between slots."),
                    },
                    ["slot_minutes", "pitches_per_writer"],
                    "Pitch slots.",
                ),
                True,
            ),
        ],
        "default_config": {
            "session": {"default_duration_minutes": 15, "recommended_frequency": "once", "online": True},
            "application": {
                "requires_application": True,
                "review_sla_days": 5,
                "reviewers_per_application": 2,
                "blind_review": True,
            },
            "matching": _matching_config(8, {"industry": 0.6, "goals": 0.4}, 0.2),
            "pitching": {"slot_minutes": 15, "pitches_per_writer": 3, "buffer_minutes": 5},
            "completion": {"duration_weeks": 1, "min_sessions_attended": 1},
            "reminders": {"session_hours_before": [24, 1], "application_deadline_days_before": [7, 1]},
        },
    },
    {
        "template_key": "live-read",
        "name": "Live Read",
        "category": "live_read",
        "description": "Selected scripts are read aloud by actors in a live online session with an "
        "audience and a moderated discussion.",
        "roles": [
            {"role": "writer", "platform_role": "beneficiary"},
            {"role": "reader", "platform_role": "volunteer"},
            {"role": "attendee", "platform_role": "participant"},
        ],
        "supports_matching": False,
        "activity_types": ["live_session", "discussion"],
        "metrics_tracked": ["reads_held", "attendees", "feedback_rating"],
        "contributes_to_vis": True,
        "contributes_to_sroi": False,
        "vis_components": {
            "weighted_hours": True,
            "quality_score": True,
            "outcome_lift": False,
            "placement_impact": False,
        },
        "sroi_dimensions": {},
        "schema_extra": [
            (
                "event",
                _obj(
                    {
                        "audience_capacity": _int(1, 10000, "Seats for attendees."),
                        "readers_per_script": _int(1, 30, "Actors per read."),
                        "recording": {"type": "boolean"},
                    },
                    ["audience_capacity"],
                    "The live event.",
                ),
                True,
            )
        ],
        "default_config": {
            "session": {"default_duration_minutes": 90, "recommended_frequency": "monthly", "online": True},
            "application": {
                "requires_application": True,
                "review_sla_days": 14,
                "reviewers_per_application": 3,
                "blind_review": True,
            },
            "event": {"audience_capacity": 200, "readers_per_script": 6, "recording": False},
            "completion": {"duration_weeks": 4, "min_sessions_attended": 1},
            "reminders": {"session_hours_before": [48, 2], "application_deadline_days_before": [14, 3]},
        },
    },
]
