from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with Cohortly's site as the default one (admin.site)."""

    default_site = "cohortly.admin_site.AdminSite"
