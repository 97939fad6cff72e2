"""Check an API response against the OpenAPI description the site serves."""

import functools
import json
import re

from django.conf import settings
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:openapi"


@functools.cache
def document() -> dict:
    urlconf = settings.SPECTACULAR_SETTINGS["SERVE_URLCONF"]
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    return Registry().with_resource(BASE, resource)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def assert_matches_openapi(response, method: str):
    """The response's status and content type are documented for its operation, and its
    body validates against that schema (405s against Problem: they have no operation)."""
    route = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", resolve(response.request["PATH_INFO"]).route)
    paths = document()["paths"]
    assert route in paths, f"{route} is not in the OpenAPI description"
    content_type = response["Content-Type"].split(";")[0].strip()
    method = method.lower()
    if method not in paths[route]:
        assert response.status_code == 405
        assert content_type == "application/problem+json"
        pointer = "/components/schemas/Problem"
    else:
        responses = paths[route][method]["responses"]
        status = str(response.status_code)
        assert status in responses, f"{method.upper()} {route} does not document {status}"
        assert content_type in responses[status]["content"], (
            f"{method.upper()} {route} {status} does not document {content_type}"
        )
        parts = ["/paths", _escape(route), method, "responses", status, "content"]
        pointer = "/".join([*parts, _escape(content_type), "schema"])
    validator = Draft202012Validator(
        {"$ref": f"{BASE}#{pointer}"},
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    validator.validate(response.json())
