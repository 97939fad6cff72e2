"""Twilio's Calls resource as the simulator serves it: checking a create request, and the JSON.

Requests are checked against Twilio's own OpenAPI description of CreateCall
(data/twilio_calls_schema.json), then for what a schema cannot say (a real
phone number, an absolute http(s) URL), with Twilio's error codes.
"""

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import phonenumbers

SCHEMA_PATH = Path(__file__).parent / "data" / "twilio_calls_schema.json"
API_VERSION = "2010-04-01"
EVENTS = ("initiated", "ringing", "answered", "completed")
MACHINE_DETECTION = ("Enable", "DetectMessageEnd")
# Twilio's magic test numbers and the errors they give (NOTES: test credentials).
MAGIC_TO = {
    "+15005550001": (21217, "Phone number does not appear to be valid"),
    "+15005550002": (21214, "'To' phone number cannot be reached"),
    "+15005550003": (
        21215,
        "Account not authorized to call {to}. Perhaps you need to enable "
        "some international permissions",
    ),
    "+15005550004": (21216, "Account not allowed to call {to}"),
}


class TwilioError(Exception):
    def __init__(self, code: int, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def _validator(name: str) -> "jsonschema.Draft7Validator":  # noqa: F821
    # Imported here: about 5 MB that web workers only need once the simulator is called.
    import jsonschema

    full = schema()
    part = {**full[name], "definitions": full["definitions"]}
    checker = jsonschema.FormatChecker()
    checker.checks("uri")(is_http_url)
    return jsonschema.Draft7Validator(part, format_checker=checker)


def is_http_url(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _form_to_instance(form) -> dict:
    """Form fields in the JSON types the schema names (forms carry only strings)."""
    props = schema()["create_call_request"]["properties"]
    out = {}
    for key in form:
        prop = props.get(key)
        if prop is None:
            continue  # Twilio ignores what it does not know.
        values = form.getlist(key)
        kind = prop.get("type")
        if kind == "array":
            out[key] = values
        elif kind == "integer":
            out[key] = int(values[-1]) if values[-1].lstrip("-").isdigit() else values[-1]
        elif kind == "boolean":
            low = values[-1].lower()
            out[key] = {"true": True, "false": False}.get(low, values[-1])
        else:
            out[key] = values[-1]
    return out


# Which Twilio error a schema complaint about a field becomes.
_FIELD_ERRORS = {
    "To": (21211, "Invalid 'To' Phone Number: {value}"),
    "From": (21212, "Invalid 'From' Phone Number: {value}"),
    "Url": (21205, "Url is not a valid URL: {value}"),
    "StatusCallback": (21609, "Invalid StatusCallback url: {value}"),
}


def _is_phone(value: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False


def check_create(form) -> dict:
    """The create request as typed values, or TwilioError saying what is wrong, as Twilio would."""
    if not form.get("To"):
        raise TwilioError(21201, "No 'To' number is specified")
    if not form.get("From"):
        raise TwilioError(21213, "No 'From' number is specified")
    data = _form_to_instance(form)
    errors = sorted(_validator("create_call_request").iter_errors(data), key=lambda e: e.path)
    for error in errors:
        field = error.path[0] if error.path else ""
        code, template = _FIELD_ERRORS.get(field, (21200, "Invalid parameter {field}: {value}"))
        raise TwilioError(code, template.format(field=field, value=data.get(field, "")))
    if not _is_phone(data["To"]):
        raise TwilioError(21211, f"Invalid 'To' Phone Number: {data['To']}")
    if data["To"] in MAGIC_TO:
        code, message = MAGIC_TO[data["To"]]
        raise TwilioError(code, message.format(to=data["To"]))
    if not _is_phone(data["From"]):
        raise TwilioError(21212, f"Invalid 'From' Phone Number: {data['From']}")
    if "Url" not in data:
        # The simulator plays our own webhooks: inline Twiml or an ApplicationSid is not for it.
        raise TwilioError(21205, "Url parameter is required (the simulator needs a Url)")
    if data.get("MachineDetection", "Enable") not in MACHINE_DETECTION:
        raise TwilioError(21200, f"Invalid MachineDetection: {data['MachineDetection']}")
    events = data.get("StatusCallbackEvent", [])
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise TwilioError(21200, f"Invalid StatusCallbackEvent: {', '.join(unknown)}")
    return data


def _rfc2822(when: datetime | None) -> str | None:
    return format_datetime(when.astimezone(UTC)) if when else None


def call_uri(call) -> str:
    return f"/{API_VERSION}/Accounts/{call.account_sid}/Calls/{call.sid}.json"


def call_resource(call) -> dict:
    """Twilio's JSON for a call resource (api.v2010.account.call)."""
    base = call_uri(call)[: -len(".json")]
    return {
        "account_sid": call.account_sid,
        "answered_by": call.answered_by or None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": _rfc2822(call.created_at),
        "date_updated": _rfc2822(call.updated_at),
        "direction": "outbound-api",
        "duration": str(call.duration) if call.duration is not None else None,
        "end_time": _rfc2822(call.end_time),
        "forwarded_from": None,
        "from": call.from_number,
        "from_formatted": call.from_number,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": call.sid,
        "start_time": _rfc2822(call.start_time),
        "status": call.state,
        "subresource_uris": {
            name: f"{base}/{title}.json"
            for name, title in (
                ("notifications", "Notifications"),
                ("recordings", "Recordings"),
                ("payments", "Payments"),
                ("events", "Events"),
                ("siprec", "Siprec"),
                ("streams", "Streams"),
                ("transcriptions", "Transcriptions"),
            )
        },
        "to": call.to,
        "to_formatted": call.to,
        "trunk_sid": None,
        "uri": call_uri(call),
    }


def parse_start_time(value: str) -> datetime:
    """StartTime filters: a date (YYYY-MM-DD, midnight UTC) or an ISO 8601 time."""
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TwilioError(20001, f"Invalid StartTime: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def list_page(calls, *, account_sid: str, filters: dict, page: int, page_size: int) -> dict:
    """One page of the Calls list, in Twilio's paging shape (uris relative to the API root)."""
    path = f"/{API_VERSION}/Accounts/{account_sid}/Calls.json"

    def uri(n):
        return path + "?" + urlencode({**filters, "PageSize": page_size, "Page": n})

    start = page * page_size
    rows = list(calls[start : start + page_size + 1])
    has_next = len(rows) > page_size
    rows = rows[:page_size]
    return {
        "calls": [call_resource(c) for c in rows],
        "end": start + max(len(rows) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if has_next else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": uri(page),
    }
