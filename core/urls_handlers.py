"""Error pages: problem details under /api/, HTML elsewhere."""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from core.api.errors import api_bad_request, api_not_found, api_server_error
from core.request_limits import payload_too_large


def bad_request(request, exception=None):
    # Django's own body-size check (a body read without a declared length, a multipart body
    # whose fields pass the limit) is a 413, as the declared-length check in RequestBodyLimitMiddleware.
    if isinstance(exception, RequestDataTooBig):
        return payload_too_large(request)
    if request.path.startswith("/api/"):
        return api_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return defaults.server_error(request)
