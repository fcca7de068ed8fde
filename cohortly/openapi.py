"""OpenAPI: the error responses that drf-standardized-errors does not know of."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework import serializers

from accounts.permissions import RolePermission, has_role, roles_for_view
from cohortly.filters import SearchFilter
from cohortly.serializers import StrictFieldsMixin

ERROR_TYPES = [("client_error", "Client Error"), ("server_error", "Server Error")]


class _Error(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class _ErrorResponse(serializers.Serializer):
    type = serializers.ChoiceField(choices=ERROR_TYPES)
    errors = _Error(many=True)


#: Every code a 401 can carry (DRF's and simplejwt's, and our login's).
ERROR_CODES_401 = [
    ("authentication_failed", "Authentication failed"),
    ("not_authenticated", "Not authenticated"),
    ("token_not_valid", "Token not valid"),
    ("invalid_credentials", "Invalid credentials"),
    ("no_active_account", "No active account"),
    ("user_not_found", "User not found"),
    ("user_inactive", "User inactive"),
    ("bad_authorization_header", "Bad authorization header"),
]


class _Error401(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODES_401)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse401Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("client_error", "Client Error")])
    errors = _Error401(many=True)


class ErrorResponse409Serializer(_ErrorResponse):
    pass


class ErrorResponse413Serializer(_ErrorResponse):
    pass


class ErrorResponse503Serializer(_ErrorResponse):
    pass


class AutoSchema(StandardizedErrorsAutoSchema):
    """409 where a view says an action may conflict (`conflict_actions`), 413 on
    requests with a body, 503 everywhere (the database may be down); and the
    400s of the query parameters drf-standardized-errors does not inspect."""

    def _get_extra_validation_errors(self):
        errors = super()._get_extra_validation_errors()
        if self.method != "GET" or not self._is_list_view():
            return errors
        # Every paginated list refuses an out-of-range page_size with a 400 on it.
        if self._get_paginator() is not None:
            errors = {**errors, "page_size": {"invalid"}}
        # ?search= answers its refusals on `search` (cohortly.filters.SearchFilter).
        for backend in self.get_filter_backends():
            if issubclass(backend, SearchFilter):
                errors = {**errors, backend.search_param: set(backend.error_codes)}
        return errors

    def _map_basic_serializer(self, serializer, direction):
        result = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictFieldsMixin):
            # These refuse any other field (a 400 `unknown_field`): say so, so a
            # client validating against the schema catches a typo before sending.
            result["additionalProperties"] = False
        return result

    def get_auth(self):
        """The view's authentication, plus `{}` (no credentials needed) where
        its declared roles let anonymous callers in: the same declaration
        RolePermission enforces and the access policy prints."""
        auths = super().get_auth()
        if {} not in auths and self._open_to_anyone():
            auths.append({})
        return auths

    def _open_to_anyone(self) -> bool:
        if not any(isinstance(p, RolePermission) for p in self.view.get_permissions()):
            return False
        # Only a PUBLIC declaration admits a caller with no user at all.
        return has_role(None, roles_for_view(self.view, self.method))

    def _should_add_error_response(self, responses, status_code):
        if status_code == "409":
            if status_code in responses:
                return False
            action = getattr(self.view, "action", None)
            conflicts = getattr(self.view, "conflict_actions", ())
            return action in conflicts or self.method.lower() in conflicts
        if status_code == "413":
            return status_code not in responses and self.method in ("POST", "PUT", "PATCH")
        return super()._should_add_error_response(responses, status_code)


class JWTScheme(SimpleJWTScheme):
    """Our JWT authentication (simplejwt's, with the cached user) is bearer JWT."""

    target_class = "cohortly.authentication.JWTAuthentication"
    match_subclasses = True  # legacy.authentication.CutoverJWTAuthentication too
    name = "jwtAuth"


_HEALTH_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["healthy", "unhealthy"]},
        "checks": {
            "type": "object",
            "description": "database, and cache when Redis is configured: ok or unavailable",
            "additionalProperties": {"type": "string", "enum": ["ok", "unavailable"]},
        },
        "duration_ms": {"type": "number"},
    },
    "required": ["status", "checks", "duration_ms"],
}


def add_health_path(result, generator, request, public):
    """The health view is a plain Django view (it must be cheap); describe it here."""
    response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
    result.setdefault("components", {}).setdefault("schemas", {})["Health"] = _HEALTH_SCHEMA
    result["paths"]["/api/v1/health/"] = {
        "get": {
            "operationId": "health_retrieve",
            "summary": "Liveness and readiness",
            "description": "Checks the database, and Redis when configured. No authentication.",
            "tags": ["platform"],
            "security": [{}],
            "responses": {
                "200": {**response, "description": "Every dependency answers."},
                "503": {**response, "description": "A dependency is down."},
                # Any other method, in the API's error shape like every other 405.
                "405": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse405"}}
                    },
                    "description": "Only GET.",
                },
            },
        }
    }
    result["paths"] = dict(sorted(result["paths"].items()))
    return result
