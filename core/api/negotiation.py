"""Content negotiation: an unknown `?format=` is invalid input (400), where DRF answers 404."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def filter_renderers(self, renderers, format):
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            known = ", ".join(sorted({renderer.format for renderer in renderers}))
            raise ValidationError({self.settings.URL_FORMAT_OVERRIDE: [f"Unknown format; use one of: {known}."]})
        return matching
