"""Every webhook, fed random, oversized, badly encoded and unicode parameters.

Signed like Twilio: never a 500. Unsigned or forged: 403 and nothing changed.
"""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.http import QueryDict
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from transactions.models import AuditEntry, CallAttempt, CallEvent, Status, Transaction

SID = "CA" + "a" * 32
TWILIO_KEYS = [
    "CallSid",
    "AccountSid",
    "CallStatus",
    "SequenceNumber",
    "SpeechResult",
    "Confidence",
    "Digits",
    "AnsweredBy",
    "CallDuration",
    "From",
    "To",
    "Direction",
    "Timestamp",
]
SHAPES = [
    "",
    "yes",
    "no",
    "1",
    "2",
    "9",
    "stop calling",
    "in-progress",
    "completed",
    "no-answer",
    "machine_start",
    "-1",
    "99999999999999999999999",
    "NaN",
    "1e309",
    "<Say>hi</Say>",
    "]]><Hangup/>",
    "\x00",
    "\ud7ff\ue000",
    "😀" * 50,
    "ß" * 300,
    "x" * 100_000,
]

values = st.one_of(st.sampled_from(SHAPES), st.text(max_size=80), st.integers().map(str))
params = st.dictionaries(
    st.one_of(st.sampled_from(TWILIO_KEYS), st.text(min_size=1, max_size=20)),
    values,
    max_size=8,
)
# Each webhook path and its status for a signed request: TwiML (200) for our row and for
# an unknown one (the caller is told we could not find the call); 404 for a step with no
# question (step 3 is a statement: nobody answers it).
ANSWERS = {
    "/voice/TXN001/step0": 200,
    "/voice/TXN001/step0/response": 200,
    "/voice/TXN001/step1/response": 200,
    "/voice/TXN001/step2/response": 200,
    "/voice/TXN001/step4/response": 200,
    "/voice/TXN001/step3/response": 404,
    "/voice/TXN001/step99999999999999999999/response": 404,
    "/voice/NOPE/step0": 200,
    "/status/TXN001": 200,
    "/status/NOPE": 200,
}
paths = st.sampled_from(list(ANSWERS))
fast = hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def call(txn):
    Transaction.objects.filter(pk=txn.pk).update(status=Status.CONNECTING)
    return CallAttempt.objects.create(transaction=txn, call_sid=SID, twilio_status="initiated")


def _snapshot():
    return (
        list(Transaction.objects.order_by("pk").values()),
        list(CallAttempt.objects.order_by("pk").values()),
        CallEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def _has_nul(form) -> bool:
    return any("\x00" in k or "\x00" in v for k, v in form.items())


def _post(client, path, form, headers):
    # Form-encoded, as Twilio sends it.
    return client.post(
        path, urlencode(form), content_type="application/x-www-form-urlencoded", headers=headers
    )


def _signed(path, form) -> str:
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
        settings.PUBLIC_URL + path, form
    )


@fast
@given(path=paths, form=params, use_our_call=st.booleans())
# Shapes a database rejects (NUL in text, NaN) always tried.
@example("/voice/TXN001/step0/response", {"SpeechResult": "no\x00", "Confidence": "NaN"}, True)
@example("/voice/TXN001/step0/response", {"Digits": "\x00" * 40, "Confidence": "1e309"}, True)
@example("/status/TXN001", {"CallStatus": "completed", "AnsweredBy": "\x00" * 50}, True)
@example("/voice/TXN001/step0", {"AnsweredBy": "machine_start\x00"}, True)
def test_signed_random_parameters_never_get_a_500(client, call, path, form, use_our_call):
    if use_our_call:
        form["CallSid"] = SID
    before = _snapshot()
    response = _post(client, path, form, {"X-Twilio-Signature": _signed(path, form)})
    if _has_nul(form):
        # Refused before the view (PostgreSQL cannot store NUL): nothing changed.
        assert response.status_code == 400
        assert _snapshot() == before
    else:
        assert response.status_code == ANSWERS[path]
        assert response["Content-Type"].startswith("text/xml")


@pytest.mark.parametrize("name", ["SequenceNumber", "CallDuration"])
def test_integers_past_the_columns_range_never_get_a_500(client, call, name):
    # Twilio sends small numbers; anyone holding a signed request could send these.
    form = {"CallSid": SID, "CallStatus": "completed", name: "9" * 25}
    signature = _signed("/status/TXN001", form)
    response = _post(client, "/status/TXN001", form, {"X-Twilio-Signature": signature})
    assert response.status_code == 200


@fast
@given(path=paths, body=st.binary(max_size=400))
def test_signed_badly_encoded_bodies_never_get_a_500(client, call, path, body):
    # Sign what the server will read: the body decoded as Django decodes it.
    signature = _signed(path, QueryDict(body, encoding="utf-8"))
    response = client.post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    # A NUL anywhere in what Django decoded is refused before the view (400).
    decoded = {k: "".join(v) for k, v in QueryDict(body, encoding="utf-8").lists()}
    assert response.status_code == (400 if _has_nul(decoded) else ANSWERS[path])


@fast
@given(
    path=paths,
    form=params,
    signature=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["", "=" * 28])),
)
def test_unsigned_or_forged_requests_change_nothing(client, call, path, form, signature):
    form["CallSid"] = SID
    before = _snapshot()
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = _post(client, path, form, headers)
    assert response.status_code == (400 if _has_nul(form) else 403)
    assert _snapshot() == before


@fast
@given(path=paths, form=params)
def test_a_signature_for_other_parameters_changes_nothing(client, call, path, form):
    form["CallSid"] = SID
    signature = _signed(path, {**form, "Digits": "tampered"})
    before = _snapshot()
    posted = {**form, "Digits": "1"}
    response = _post(client, path, posted, {"X-Twilio-Signature": signature})
    assert response.status_code == (400 if _has_nul(posted) else 403)
    assert _snapshot() == before
