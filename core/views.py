"""JSON error pages for the API paths, HTML for the rest (admin)."""

from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from core.errors import error_response


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return error_response("not_found", "No such endpoint; see /api/docs/.", 404)
    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return error_response("server_error", "Something went wrong on our side; retry later.", 500)
    return html_server_error(request)
