from rest_framework import serializers
from rest_framework.settings import api_settings


class StrictFieldsMixin:
    """Refuse fields the serializer does not accept instead of silently dropping
    them, so `{"role": "ADMIN"}` on a profile is a clear 400, not a quiet no-op."""

    # Declared so the OpenAPI schema documents the code among the non-field errors.
    default_error_messages = {"unknown_field": "Unknown field(s)."}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                # Reported as a non-field error: the attr of a field error must
                # name a documented field, and these are not.
                names = ", ".join(repr(name)[:60] for name in unknown[:10])
                raise serializers.ValidationError(
                    {
                        api_settings.NON_FIELD_ERRORS_KEY: [
                            serializers.ErrorDetail(f"Unknown field(s): {names}.", code="unknown_field")
                        ]
                    }
                )
        return super().to_internal_value(data)
