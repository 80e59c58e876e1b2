"""`manage.py check` fails when a registered notification kind lacks a template it needs."""

from __future__ import annotations

from django.core import checks

from notifications.registry import kind_registry


@checks.register(checks.Tags.templates)
def notification_templates_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"The notification kind '{kind.key}' has a template problem: {problem}",
            hint=f"Add the templates under templates/{kind.template_name} or fix its inline templates.",
            id="notifications.E001",
        )
        for kind in kind_registry().values()
        for problem in kind.check_templates()
    ]
