"""REST framework glue shared by every app's API: errors, pagination, the
filters whose messages name the value and the allowed values, and the token
endpoint."""

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponseBase
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework import exceptions, pagination, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# PostgreSQL bigint, the type of every primary key (BigAutoField). A larger
# id in a query string would make the database raise, so the filter rejects it.
MAX_ID = 2**63 - 1
MAX_PAGE_SIZE = 500


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponseBase | None:
    """Turn a Django ValidationError raised by a service into a 400 with the
    usual DRF body, so bad input never becomes a 500.

    A signed-out visitor to the HTML documentation pages is sent to the login
    page rather than shown a bare 403.
    """
    view = context.get("view")
    request = context.get("request")
    if (
        isinstance(exc, exceptions.NotAuthenticated)
        and isinstance(view, SpectacularSwaggerView | SpectacularRedocView)
        and request is not None
    ):
        return redirect_to_login(request.get_full_path())
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    return drf_exception_handler(exc, context)


class PageNumberPagination(pagination.PageNumberPagination):
    """Page number pagination with a `page_size` query parameter of at most 500."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Any) -> int:
        # DRF silently falls back to the default for an invalid page_size;
        # a caller who asked for a size should learn that it was not used.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size or MAX_PAGE_SIZE
        text = raw.strip()
        if not text.isascii() or not text.isdigit() or int(text) < 1:
            raise exceptions.ValidationError(
                {
                    "page_size": [
                        f"{raw[:40]!r} is not a valid page size. Allowed values: a whole "
                        f"number from 1 to {MAX_PAGE_SIZE}; larger sizes are capped."
                    ]
                }
            )
        return min(int(text), MAX_PAGE_SIZE)


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only resource whose list and detail share one scoped queryset.

    Subclasses build the queryset from the resource's selector in
    get_queryset(), so the detail of an object missing from the list returns 404.
    """

    pagination_class = PageNumberPagination


# Filters ---------------------------------------------------------------------


class IdField(forms.Field):
    """A database id in a query string: a whole number from 1 to MAX_ID."""

    def __init__(self, *, noun: str, **kwargs: Any) -> None:
        self.noun = noun
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
            raise DjangoValidationError(
                "%(value)s is not a valid %(noun)s id. Allowed values: a whole number "
                "from 1, the id of %(article)s %(noun)s you can see.",
                code="invalid",
                params={
                    "value": repr(str(value)),
                    "noun": self.noun,
                    # The vowel rule suits every noun in use; "hour" or "user" would not fit it.
                    "article": "an" if self.noun[:1].lower() in "aeiou" else "a",
                },
            )
        return int(text)


class IdFilter(django_filters.Filter):
    """Filter on a foreign key by id. An id outside the caller's scope matches
    nothing, so the response is an empty list rather than an error that would
    confirm the object exists."""

    field_class = IdField

    def __init__(self, *args: Any, noun: str, **kwargs: Any) -> None:
        super().__init__(*args, noun=noun, **kwargs)
        # The OpenAPI description comes from this override, not from help_text.
        schema = {"type": "integer", "minimum": 1, "description": f"Filter by {noun} id."}
        extend_schema_field(schema)(self)


def describe_choices(choices: Iterable[tuple[Any, Any]]) -> str:
    """Return "A (label), B (label)" for an error message."""
    return ", ".join(f"{value} ({label})" for value, label in choices)


def choice_filter(
    *, field_name: str, noun: str, choices: list[tuple[Any, Any]], **kwargs: Any
) -> django_filters.ChoiceFilter:
    """Build a ChoiceFilter whose error names the rejected value and lists the
    allowed ones."""
    allowed = describe_choices(choices)
    # Django's ChoiceField fills in %(value)s; a literal % in a label would
    # break that formatting, so labels are escaped.
    message = f"%(value)r is not a valid {noun}. Allowed values: {allowed.replace('%', '%%')}."
    return django_filters.ChoiceFilter(
        field_name=field_name,
        choices=choices,
        error_messages={"invalid_choice": message},
        help_text=f"Filter by {noun}.",
        **kwargs,
    )


# Token -----------------------------------------------------------------------


class TokenRequestSerializer(AuthTokenSerializer):
    """Username and password, checked by Django's authentication backends."""

    default_error_messages = {
        "invalid_credentials": "Unable to sign in with the username and password given.",
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        # authenticate() returns None for an inactive user as well, so a
        # disabled account gets no token.
        if user is None:
            raise serializers.ValidationError(
                self.error_messages["invalid_credentials"], code="authorization"
            )
        attrs["user"] = user
        return attrs


class TokenView(ObtainAuthToken):
    """Issue (or return the existing) API token for a username and password."""

    serializer_class = TokenRequestSerializer
    # Credentials are the authentication here, so a session cookie (and its
    # CSRF check) plays no part.
    authentication_classes: list[type] = []

    @extend_schema(
        operation_id="auth_token_create",
        summary="Obtain an API token",
        description=(
            "Exchange a username and password for a token. Send it on later requests "
            "as the header `Authorization: Token <key>`. The same token is returned "
            "until it is deleted."
        ),
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", fields={"token": serializers.CharField()}),
            400: inline_serializer(
                "TokenError",
                fields={"non_field_errors": serializers.ListField(child=serializers.CharField())},
            ),
        },
        examples=[
            OpenApiExample(
                "Wrong password",
                value={
                    "non_field_errors": ["Unable to sign in with the username and password given."]
                },
                response_only=True,
                status_codes=["400"],
            )
        ],
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
