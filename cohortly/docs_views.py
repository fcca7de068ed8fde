"""The API's docs (schema, Swagger UI, ReDoc), imported on first use.

drf-spectacular's views pull in its whole schema machinery; loading it only
when someone opens the docs keeps every worker about a megabyte and a half
smaller (the workers' memory is one of the measured targets).

The docs pages load nothing from outside this server: their assets come from
drf-spectacular-sidecar, ReDoc's page is ours without its web fonts
(templates/docs/redoc.html), and a Content-Security-Policy holds the browser
to this origin, so what a bundle would fetch on its own (ReDoc's sidebar
logo) is never requested.
"""

from functools import cache

from cohortly.exceptions import method_not_allowed

#: Swagger UI and ReDoc run inline scripts and styles and ReDoc a blob: worker;
#: everything else (scripts, styles, images, fonts, the schema) is this origin's.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ]
)


@cache
def _views():
    from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

    return {
        "schema": SpectacularAPIView.as_view(),
        "swagger": SpectacularSwaggerView.as_view(url_name="schema"),
        "redoc": SpectacularRedocView.as_view(url_name="schema", template_name="docs/redoc.html"),
    }


#: The docs are read, never written to: anything else is a 405 in the API's
#: error shape here, where drf-spectacular's views would answer it as YAML or
#: HTML (and an OPTIONS to Swagger UI's page, which only renders a template,
#: was a 500).
READ = ("GET", "HEAD")


def _serve(name, request, *args, **kwargs):
    if request.method not in READ:
        return method_not_allowed(request.method, READ)
    return _views()[name](request, *args, **kwargs)


def _page(name, request, *args, **kwargs):
    response = _serve(name, request, *args, **kwargs)
    response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response


def schema(request, *args, **kwargs):
    return _serve("schema", request, *args, **kwargs)


def swagger(request, *args, **kwargs):
    return _page("swagger", request, *args, **kwargs)


def redoc(request, *args, **kwargs):
    return _page("redoc", request, *args, **kwargs)
