"""OpenAPI: the error responses that drf-standardized-errors does not know of,
and the finishing touches a generated client needs (see finish_schema)."""

import re
from decimal import Decimal

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework import serializers
from rest_framework.settings import api_settings

from accounts.permissions import RolePermission, has_role, roles_for_view
from cohortly.filters import SearchFilter
from cohortly.middleware import VALID_REQUEST_ID
from cohortly.models import MAX_ID
from cohortly.serializers import StrictFieldsMixin

ERROR_TYPES = [("client_error", "Client Error"), ("server_error", "Server Error")]


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


#: Every code a 403 can carry: DRF's, and login's refusal of an account whose
#: email nobody has confirmed (accounts.backends).
ERROR_CODES_403 = [
    ("permission_denied", "Permission denied"),
    ("email_not_verified", "Email address not confirmed"),
]


#: Every code a 409 can carry: the domain Conflicts the services raise
#: (test_error_codes checks the services raise no other).
ERROR_CODES_409 = [
    ("conflict", "Conflict"),
    ("already_enrolled", "Already enrolled"),
    ("invalid_transition", "Invalid status transition"),
    ("not_started", "Bootcamp has not started"),
    ("bootcamp_ended", "Bootcamp has ended"),
    ("has_enrollments", "Bootcamp has enrollments"),
    ("has_submissions", "Assignment has submissions"),
    ("already_graded", "Submission already graded"),
    ("not_graded", "Submission not graded"),
    ("cannot_resubmit", "Student could not hand the work in again"),
    ("handed_in_again", "Handed in again since the grader read it"),
    ("protected", "Referred to by other records"),
    ("open_lead_exists", "An open lead has this email"),
    ("already_converted", "Lead already converted"),
    ("lead_lost", "Lead is lost"),
    ("retry", "Concurrent change: retry"),
]
#: A 413's code, and a 503's (a database outage, or a lock wait that ran out).
ERROR_CODES_413 = [("payload_too_large", "Payload too large")]
ERROR_CODES_503 = [("service_unavailable", "Service unavailable"), ("busy", "Busy: retry shortly")]


def _error_response(
    name: str, codes: list[tuple[str, str]], types: list[tuple[str, str]] = ERROR_TYPES
) -> type[serializers.Serializer]:
    """The error shape with `code` one of `codes` (an enum a client can switch on)."""
    error = type(
        f"Error{name}",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=codes),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return type(
        f"ErrorResponse{name}Serializer",
        (serializers.Serializer,),
        {"type": serializers.ChoiceField(choices=types), "errors": error(many=True)},
    )


ErrorResponse401Serializer = _error_response("401", ERROR_CODES_401, [("client_error", "Client Error")])
ErrorResponse403Serializer = _error_response("403", ERROR_CODES_403, [("client_error", "Client Error")])
ErrorResponse409Serializer = _error_response("409", ERROR_CODES_409)
ErrorResponse413Serializer = _error_response("413", ERROR_CODES_413)
ErrorResponse503Serializer = _error_response("503", ERROR_CODES_503)


class AutoSchema(StandardizedErrorsAutoSchema):
    """409 where a view says an action may conflict (`conflict_actions`), 413 on
    requests with a body, 503 everywhere (the database may be down); and the
    400s of the query parameters drf-standardized-errors does not inspect."""

    def _get_extra_validation_errors(self):
        errors = super()._get_extra_validation_errors()
        if self.method != "GET" or not self._is_list_view():
            return errors
        # Every paginated list refuses a page that isn't a number, and an out-of-range
        # page_size, with a 400 on the parameter.
        if self._get_paginator() is not None:
            errors = {**errors, "page": {"invalid"}, "page_size": {"invalid"}}
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
        if getattr(serializer, "closed_schema", False):
            # A response that is one of several shapes (oneOf) must not match the others.
            result["additionalProperties"] = False
        return result

    def get_auth(self):
        """The view's authentication, plus `{}` (no credentials needed) where
        its declared roles let anonymous callers in: the same declaration
        RolePermission enforces and the access policy prints. An operation
        that takes no credentials at all (login, register) has none: `[]`
        (finish_schema writes it), which generators read as "no auth"."""
        auths = super().get_auth()
        if {} not in auths and self._open_to_anyone():
            auths.append({})
        return [] if auths == [{}] else auths

    def get_override_parameters(self):
        """A numeric id in the path (`lookup_value_regex` of digits) is an
        integer, as every `id` in a body is (drf-spectacular reads the regex
        as a string pattern)."""
        parameters = super().get_override_parameters()
        regex = getattr(self.view, "lookup_value_regex", "")
        kwarg = getattr(self.view, "lookup_url_kwarg", None) or getattr(self.view, "lookup_field", "pk")
        name = "id" if kwarg == "pk" else kwarg
        if regex in (r"\d+", "[0-9]+") and "{" + name + "}" in self.path:
            parameters = [
                *parameters,
                OpenApiParameter(
                    name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, OpenApiParameter.PATH
                ),
            ]
        return parameters

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


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal as the API answers and reads it. drf-spectacular's pattern
    (`^-?\\d{0,8}(?:\\.\\d{0,2})?$`) also matches "", "-" and ".", which are
    refused, and its type leaves out the JSON numbers that are read. An answer
    always has every decimal place ("12.50"). A request (the API's writable
    decimals are cohortly.serializers.PlainDecimalField) may send any plain
    decimal within the field's digits, as text or as a JSON number."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        coerced = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        if direction == "response" and not coerced:
            return {"type": "number"}
        places = field.decimal_places or 0
        whole = "+" if field.max_digits is None else f"{{1,{max(field.max_digits - places, 1)}}}"
        if direction == "response":
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            fraction = rf"\.[0-9]{{{places}}}" if places else ""
            if places and field.normalize_output:  # "12.5", "12": no trailing zeros
                fraction = rf"(?:\.[0-9]{{1,{places}}})?"
            return {"type": "string", "format": "decimal", "pattern": rf"^{sign}[0-9]{whole}{fraction}$"}
        # As cohortly.models.is_plain_decimal reads text (spaces around it, a sign,
        # a point with digits on either side), within the field's digits
        # (leading zeros aren't digits to DRF), in ASCII digits: a
        # validator in Python reads \d as any Unicode digit.
        fraction = rf"(?:\.[0-9]{{0,{places}}})?|\.[0-9]{{1,{places}}}" if places else ""
        text = {
            "type": "string",
            "format": "decimal",
            "pattern": rf"^\s*[+-]?(?:0*[0-9]{whole}{fraction})\s*$",
        }
        number = {"type": "number"}
        if field.max_digits is not None:
            largest = Decimal(10) ** (field.max_digits - places) - Decimal(10) ** -places
            number["maximum"] = float(largest if field.max_value is None else min(largest, field.max_value))
            number["minimum"] = float(-largest if field.min_value is None else max(-largest, field.min_value))
        return {"oneOf": [text, number]}


_HEALTH_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {
            "type": "string",
            "enum": ["healthy", "degraded"],
            "description": "degraded: the cache (Redis) is unavailable and requests are served without it",
        },
        "checks": {
            "type": "object",
            "properties": {
                "database": {"type": "string", "enum": ["ok"]},
                "cache": {
                    "type": "string",
                    "enum": ["ok", "unavailable"],
                    "description": "only when Redis is configured",
                },
            },
            "required": ["database"],
            "additionalProperties": False,
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
            "description": (
                "Checks the database, and Redis when configured. Only the database makes an "
                "instance unready (503); Redis is a cache, so without it the answer is 200 "
                "with `status: degraded` and `checks.cache: unavailable`. No authentication."
            ),
            "tags": ["platform"],
            "security": [],
            "responses": {
                "200": {
                    **response,
                    "description": "The database answers: the instance can serve (`degraded` without Redis).",
                },
                # In the API's error shape, `attr` naming what is down.
                "503": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse503"}}
                    },
                    "description": "The database is down: `attr` is `database`.",
                },
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


#: An enum value a generator can't name (`-created_at`): its name in x-enum-varnames.
_NOT_AN_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]|^[0-9]")


def _enum_varname(value: str) -> str:
    name = value.upper()
    if name.startswith("-"):
        name = name[1:] + "_DESC"
    return re.sub(r"[^A-Z0-9_]", "_", name)


def walk(node):
    """Every object (dict) in a schema, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


#: Headers declared for generated clients (see finish_schema).
RESPONSE_HEADERS = {
    "X-Request-ID": {
        "description": (
            "The request's id, in the server's log line too: the caller's own X-Request-ID when it "
            "was 1 to 128 letters, digits and ._:- characters, else a new one."
        ),
        "required": True,
        "schema": {"type": "string", "pattern": VALID_REQUEST_ID.pattern},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again (a throttle, or a busy row lock).",
        "schema": {"type": "integer", "minimum": 0},
    },
}


def finish_schema(result, generator, request, public):
    """What drf-spectacular leaves for a generated client to trip on:

    - an operation that takes no credentials says `security: []` (with no
      `security` a generator falls back to "unknown"; `[{}]` reads as auth);
    - a blank-or-formatted string (`link`: a URI or "") is `anyOf`: "" is a
      string of length 0 and, to a validator that doesn't assert formats, a
      URI too, so `oneOf` would match it twice; its default ("") is the
      whole's, not the formatted branch's, which it would fail;
    - an enum whose values aren't identifiers (`-created_at`) gets
      `x-enum-varnames` (CREATED_AT_DESC), not VALUE_0…;
    - the headers every answer carries (X-Request-ID) and those a refusal to
      wait carries (Retry-After on 429 and a 503) are declared, once, in
      components.headers."""
    result.setdefault("components", {})["headers"] = RESPONSE_HEADERS
    for methods in result["paths"].values():
        for operation in methods.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation.setdefault("security", [])
                for status_code, response in operation["responses"].items():
                    names = ["X-Request-ID"] + (["Retry-After"] if status_code in ("429", "503") else [])
                    headers = response.setdefault("headers", {})
                    for name in names:
                        headers[name] = {"$ref": f"#/components/headers/{name}"}
    for node in walk(result):
        one_of = node.get("oneOf")
        if (
            isinstance(one_of, list)
            and len(one_of) == 2
            and one_of[1] == {"type": "string", "maxLength": 0}
            and one_of[0].get("type") == "string"
        ):
            node["anyOf"] = node.pop("oneOf")
            # A default of "" belongs to the whole, not to the formatted branch it fails.
            if "default" in one_of[0]:
                node.setdefault("default", one_of[0].pop("default"))
        enum = node.get("enum")
        if isinstance(enum, list) and any(isinstance(v, str) and _NOT_AN_IDENTIFIER.search(v) for v in enum):
            node["x-enum-varnames"] = [_enum_varname(str(v)) for v in enum]
    return result
