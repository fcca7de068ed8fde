from rest_framework.routers import DefaultRouter, SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Every route answers with and without the trailing slash, without a
    redirect (a redirect would drop a POST body). The old backend's paths had
    no slash; the documented paths have one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"


__all__ = ["OptionalSlashRouter", "DefaultRouter"]
