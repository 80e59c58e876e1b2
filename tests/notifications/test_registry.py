"""The kind registry: file and inline templates, escaping, and programming errors."""

from __future__ import annotations

import pytest
from django.template import TemplateDoesNotExist

from notifications.checks import notification_templates_check
from notifications.registry import Rendered, get_kind, kind_registry, register_kind, unregister_kind

NOTICE = {
    "title": "Your password changed & more",
    "message": "We changed <b>it</b>.\nSecond line",
    "action_url": "https://example.org/a?x=1&y=2",
    "action_label": "Review",
}


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.org", full_name="Ada Lovelace")


def test_account_notice_is_registered_as_transactional_and_essential():
    kind = get_kind("account_notice")
    assert (kind.group, kind.essential, kind.channels, kind.template_name) == (
        "transactional",
        True,
        ("email", "dashboard"),
        "notifications/account_notice/",
    )


def test_account_notice_email_renders_subject_text_and_escaped_html(ada):
    rendered = get_kind("account_notice").render("email", {**NOTICE, "user": ada})

    assert rendered == Rendered(
        subject="Your password changed & more",
        body_text=(
            "Hello Ada,\n\nWe changed <b>it</b>.\nSecond line\n\nReview: https://example.org/a?x=1&y=2\n\n"
            "-- \nPrograms and Events"
        ),
        body_html=rendered.body_html,
        dashboard_text="",
    )
    assert "<p>Hello Ada,</p>" in rendered.body_html
    assert "<p>We changed &lt;b&gt;it&lt;/b&gt;.<br>Second line</p>" in rendered.body_html
    assert '<p><a href="https://example.org/a?x=1&amp;y=2">Review</a></p>' in rendered.body_html
    assert "<b>it</b>" not in rendered.body_html


def test_account_notice_without_a_link_and_on_the_dashboard(ada):
    kind = get_kind("account_notice")
    context = {"title": "Welcome", "message": "Your account is ready.", "user": ada}

    email = kind.render("email", context)
    dashboard = kind.render("dashboard", context)

    assert email.body_text == "Hello Ada,\n\nYour account is ready.\n\n-- \nPrograms and Events"
    assert "<a href" not in email.body_html
    assert dashboard == Rendered(subject="Welcome", dashboard_text="Your account is ready.")


def test_dashboard_text_is_cut_to_200_characters(ada):
    dashboard = get_kind("account_notice").render("dashboard", {"title": "Long", "message": "x" * 300, "user": ada})
    assert dashboard.dashboard_text == "x" * 199 + "…"


def test_inline_templates_render_and_a_multiline_subject_becomes_one_line(ada):
    kind = register_kind(
        "test_inline_kind",
        group="nudge",
        essential=False,
        description="test",
        inline={
            "subject": "Hello\n  {{ user.get_short_name }} &\n",
            "text": "{{ a }} < {{ b }}",
            "html": "<i>{{ a }} &lt; {{ b }}</i>",
            "dashboard": "{{ a }}",
        },
    )
    try:
        context = {"a": "<1>", "b": 2, "user": ada}
        assert kind.render("email", context) == Rendered(
            subject="Hello Ada &", body_text="<1> < 2", body_html="<i>&lt;1&gt; &lt; 2</i>"
        )
        assert kind.render("dashboard", context) == Rendered(subject="Hello Ada &", dashboard_text="<1>")
        assert kind.template_name == "inline:test_inline_kind"
    finally:
        unregister_kind("test_inline_kind")


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(LookupError, match="No notification kind 'no_such_kind' is registered"):
        get_kind("no_such_kind")


@pytest.mark.parametrize(
    ("key", "options", "message"),
    [
        ("Bad Key", {}, "Invalid kind key 'Bad Key'"),
        ("test_ok", {"group": "Not A Group"}, "Invalid kind group 'Not A Group'"),
        ("test_ok", {"channels": ("sms",)}, "'sms' is not a valid Channel"),
        ("test_ok", {"channels": ()}, "needs distinct channels"),
        ("test_ok", {"inline": {"subject": "s", "text": "t", "dashboard": "d", "footer": "f"}}, "footer"),
        ("test_ok", {"inline": {"subject": "s", "dashboard": "d"}}, "have no 'text'"),
        ("test_ok", {"inline": {"subject": "s", "text": "{% if %}", "dashboard": "d"}}, "are incomplete"),
    ],
)
def test_invalid_registrations_raise(key, options, message):
    arguments = {"group": "nudge", "essential": False, "description": "x"} | options
    with pytest.raises(ValueError, match=message):
        register_kind(key, **arguments)
    assert key not in kind_registry()


def test_registering_the_same_kind_twice_is_harmless_but_a_different_definition_raises():
    options = {"group": "nudge", "essential": False, "description": "x", "inline": {"text": "t", "subject": "s"}}
    try:
        first = register_kind("test_twice", channels=("email",), **options)
        assert register_kind("test_twice", channels=("email",), **options) == first
        with pytest.raises(ValueError, match="already registered with another definition"):
            register_kind("test_twice", channels=("email",), **{**options, "essential": True})
    finally:
        unregister_kind("test_twice")


def test_a_file_kind_without_its_templates_fails_the_system_check_and_rendering(ada):
    register_kind("test_missing_files", group="transactional", essential=True, description="x", channels=("email",))
    try:
        errors = notification_templates_check()
        assert [(e.id, e.msg) for e in errors] == [
            (
                "notifications.E001",
                "The notification kind 'test_missing_files' has a template problem: "
                "email: missing template notifications/test_missing_files/subject.txt",
            ),
            (
                "notifications.E001",
                "The notification kind 'test_missing_files' has a template problem: "
                "email: missing template notifications/test_missing_files/body.txt",
            ),
        ]
        with pytest.raises(TemplateDoesNotExist):
            get_kind("test_missing_files").render("email", {"user": ada})
    finally:
        unregister_kind("test_missing_files")
    assert notification_templates_check() == []


def test_rendering_for_a_channel_the_kind_does_not_use_raises(ada):
    register_kind(
        "test_email_only",
        group="nudge",
        essential=False,
        description="x",
        channels=("email",),
        inline={"subject": "s", "text": "t"},
    )
    try:
        with pytest.raises(ValueError, match="is not sent by dashboard"):
            get_kind("test_email_only").render("dashboard", {"user": ada})
    finally:
        unregister_kind("test_email_only")
