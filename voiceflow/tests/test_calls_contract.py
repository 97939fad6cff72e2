"""Our Calls create request, as the real twilio client sends it, checked against Twilio's OpenAPI.

voiceflow/tests/data/twilio_create_call.json is operation CreateCall copied
from Twilio's published OpenAPI description (MIT licence beside it).
"""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from voiceflow.calls import request_call

SPEC = json.loads((Path(__file__).parent / "data" / "twilio_create_call.json").read_text())
SCHEMA = SPEC["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
# Twilio's description of StatusCallbackEvent names the only events it accepts.
STATUS_CALLBACK_EVENTS = {"initiated", "ringing", "answered", "completed"}


def _typed(form: list[tuple[str, str]]) -> dict:
    """The form-encoded body as the JSON the schema describes (arrays, integers, booleans)."""
    body = {}
    for key, value in form:
        kind = SCHEMA["properties"].get(key, {}).get("type", "string")
        if kind == "array":
            body.setdefault(key, []).append(value)
        elif kind == "integer":
            body[key] = int(value)
        elif kind == "boolean":
            body[key] = {"true": True, "false": False}[value]
        else:
            body[key] = value
    return body


@pytest.fixture
def sent(txn, twilio_api):
    request_call(txn)
    (request,) = twilio_api.requests
    return request


def test_the_request_goes_to_the_create_call_path(sent):
    account_sid = SPEC["parameters"][0]
    assert account_sid["name"] == "AccountSid"
    path = re.escape(SPEC["path"]).replace(re.escape("{AccountSid}"), "(?P<sid>[^/]+)")
    match = re.fullmatch(path, sent["path"])
    assert match, sent["path"]
    jsonschema.validate(match["sid"], account_sid["schema"])
    assert sent["method"] == SPEC["method"].upper()
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_the_request_body_matches_twilios_schema(sent):
    body = _typed(sent["form"])
    # Only parameters Twilio knows: a misspelt one would be silently ignored by Twilio.
    assert set(body) <= set(SCHEMA["properties"]), set(body) - set(SCHEMA["properties"])
    strict = {**SCHEMA, "additionalProperties": False}
    jsonschema.validate(body, strict, format_checker=jsonschema.FormatChecker())
    assert set(body["StatusCallbackEvent"]) <= STATUS_CALLBACK_EVENTS
    for key in ("Url", "StatusCallback"):
        assert SCHEMA["properties"][key]["format"] == "uri"
        parts = urlsplit(body[key])
        assert parts.scheme in {"http", "https"} and parts.netloc


def test_the_schema_would_catch_a_broken_request():
    # The same check fails for a body Twilio would reject: the test can fail.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"To": "+14155550101"}, SCHEMA)  # no From
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"To": "+1", "From": "+1", "StatusCallbackMethod": "PUT"}, SCHEMA)
