from rest_framework import serializers


class StrictFieldsMixin:
    """Refuse fields the serializer does not accept instead of silently dropping
    them, so `{"role": "ADMIN"}` on a profile is a clear 400, not a quiet no-op."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not accepted here."] for name in unknown},
                    code="unknown_field",
                )
        return super().to_internal_value(data)
