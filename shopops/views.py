"""Project-level views."""

from django.http import JsonResponse


def healthz(request):
    # Placeholder replaced by the foundation work (database + broker checks).
    return JsonResponse({"ok": True})
