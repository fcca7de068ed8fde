"""OpenAPI: the error responses that drf-standardized-errors does not know of."""

from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework import serializers

ERROR_TYPES = [("client_error", "Client Error"), ("server_error", "Server Error")]


class _Error(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class _ErrorResponse(serializers.Serializer):
    type = serializers.ChoiceField(choices=ERROR_TYPES)
    errors = _Error(many=True)


class ErrorResponse409Serializer(_ErrorResponse):
    pass


class ErrorResponse413Serializer(_ErrorResponse):
    pass


class ErrorResponse503Serializer(_ErrorResponse):
    pass


class AutoSchema(StandardizedErrorsAutoSchema):
    """409 where a view says an action may conflict (`conflict_actions`), 413 on
    requests with a body, 503 everywhere (the database may be down)."""

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
