from django.core.checks import Error, register

from crm_sync import registry


@register()
def event_registry_check(app_configs, **kwargs):
    """`manage.py check` fails on an invalid schema or an entry pointing at a missing file."""
    registry.reset()
    try:
        registry.registry()
    except registry.RegistryError as exc:
        return [Error(f"The event-type registry is invalid: {exc}", id="crm_sync.E001")]
    return []
