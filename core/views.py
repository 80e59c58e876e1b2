from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import readiness


@never_cache
@require_GET
def health_live(request) -> JsonResponse:
    """Liveness: the process answers; touches neither the database nor the broker."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def health_ready(request) -> JsonResponse:
    """Readiness: 200 when the database and the broker answer, 503 naming what fails."""
    results = readiness()
    failing = {name: error for name, error in results.items() if error}
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": {name: ("ok" if not error else "failing") for name, error in results.items()},
    }
    if failing:
        body["failing"] = sorted(failing)
        body["errors"] = failing
        return JsonResponse(body, status=503)
    return JsonResponse(body)
