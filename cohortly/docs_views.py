"""The API's docs (schema, Swagger UI, ReDoc), imported on first use.

drf-spectacular's views pull in its whole schema machinery; loading it only
when someone opens the docs keeps every worker about a megabyte and a half
smaller (the workers' memory is one of the measured targets).
"""

from functools import cache


@cache
def _views():
    from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

    return {
        "schema": SpectacularAPIView.as_view(),
        "swagger": SpectacularSwaggerView.as_view(url_name="schema"),
        "redoc": SpectacularRedocView.as_view(url_name="schema"),
    }


def schema(request, *args, **kwargs):
    return _views()["schema"](request, *args, **kwargs)


def swagger(request, *args, **kwargs):
    return _views()["swagger"](request, *args, **kwargs)


def redoc(request, *args, **kwargs):
    return _views()["redoc"](request, *args, **kwargs)
