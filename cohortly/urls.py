from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from cohortly import bench_views, docs_views, metrics, views
from mail import webhooks as mail_webhooks

admin.site.site_header = "Cohortly back office"
admin.site.site_title = "Cohortly"
admin.site.index_title = "Bootcamps, people, enrollments and grades"

urlpatterns = [
    path("", views.home, name="home"),
    re_path(r"^api/?$", views.UnversionedApiIndexView.as_view(), name="api-index"),
    # The index without its slash, as every other route answers (left out of the schema:
    # /api/v1/ documents it once).
    re_path(r"^api/v1$", views.ApiIndexView.as_view(schema=None)),
    re_path(r"^api/v1/", include(("cohortly.api_urls", "api"), namespace="api")),
    re_path(r"^api/schema/?$", docs_views.schema, name="schema"),
    re_path(r"^api/docs/?$", docs_views.swagger, name="swagger-ui"),
    re_path(r"^api/redoc/?$", docs_views.redoc, name="redoc"),
    # Prometheus (a bearer token, else 404); not part of the API or its schema.
    path("metrics", metrics.metrics_view, name="metrics"),
    path("sales/", include(("leads.urls", "sales"), namespace="sales")),
    path(settings.ADMIN_URL, admin.site.urls),
    # SendGrid's Event Webhook (delivered, bounce, dropped, spam report, unsubscribe ...).
    path("anymail/sendgrid/tracking/", mail_webhooks.sendgrid_tracking, name="sendgrid-tracking"),
    *([path("bench/minimal", bench_views.minimal)] if settings.BENCH_ENDPOINTS else []),
    # Unknown API paths answer in the API's error shape, in DEBUG too.
    re_path(r"^api/", views.api_not_found),
]

handler400 = "cohortly.exceptions.handler400"
handler403 = "cohortly.exceptions.handler403"
handler404 = "cohortly.exceptions.handler404"
handler500 = "cohortly.exceptions.handler500"
