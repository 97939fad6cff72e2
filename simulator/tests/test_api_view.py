"""The Twilio-compatible Calls API, driven by the real twilio client over HTTP where it matters."""

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult
from twilio.base.exceptions import TwilioRestException

from simulator import rest
from simulator.models import SimCall

from .conftest import twilio_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("simulator.tests.twiml_app")]
# The real twilio client needs the live server, and so a database shared between threads.
over_http = pytest.mark.django_db(transaction=True)

CALLS = "/simulator/api/2010-04-01/Accounts/{sid}/Calls.json"


def _create(twilio, to="+14155550100", **extra):
    return twilio.calls.create(
        to=to,
        from_=settings.TWILIO_NUMBER,
        url="http://example.test/voice/TXN001/step0",
        status_callback="http://example.test/status/TXN001",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        machine_detection="DetectMessageEnd",
        **extra,
    )


def _auth(sid=None, token=None):
    pair = f"{sid or settings.TWILIO_SID}:{token or settings.TWILIO_AUTH_TOKEN}"
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(pair.encode()).decode()}


def _post(client, data, **auth):
    return client.post(CALLS.format(sid=settings.TWILIO_SID), data, **(auth or _auth()))


def _valid_form(**changes):
    form = {"To": "+14155550100", "From": "+15005550006", "Url": "http://example.test/v"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@over_http
def test_it_places_a_call_for_the_real_twilio_client(twilio):
    call = _create(twilio)

    row = SimCall.objects.get(sid=call.sid)
    assert call.status == "queued"
    assert call.to == "+14155550100"
    assert row.status_callback_events == ["initiated", "ringing", "answered", "completed"]
    assert row.machine_detection == "DetectMessageEnd"
    assert row.persona == "0"
    assert row.url == "http://example.test/voice/TXN001/step0"


def test_its_answer_is_twilios_call_resource(client):
    response = _post(client, _valid_form())

    assert response.status_code == 201
    body = response.json()
    full = rest.schema()
    jsonschema.validate(body, {**full["call"], "definitions": full["definitions"]})
    assert body["sid"].startswith("CA") and len(body["sid"]) == 34
    assert body["direction"] == "outbound-api"


def test_it_queues_the_call_engine_on_the_worker(client):
    sid = _post(client, _valid_form()).json()["sid"]

    queued = DBTaskResult.objects.get(task_path="simulator.tasks.run_simulated_call")
    assert queued.args_kwargs["args"] == [sid]
    # Nothing of the call ran inside the request.
    assert SimCall.objects.get(sid=sid).state == "queued"


@over_http
def test_it_rejects_wrong_credentials_as_twilio_does(live):
    with pytest.raises(TwilioRestException) as e:
        _create(twilio_client(token="0" * 32))

    assert (e.value.status, e.value.code) == (401, 20003)
    assert not SimCall.objects.exists()


def test_it_rejects_a_request_without_credentials(client):
    response = client.post(CALLS.format(sid=settings.TWILIO_SID), _valid_form())

    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


@pytest.mark.parametrize(
    "header",
    ["Bearer abc", "Basic !!!not-base64", "Basic " + base64.b64encode("é:ü".encode()).decode()],
)
def test_it_answers_malformed_credentials_with_401(client, header):
    url = CALLS.format(sid=settings.TWILIO_SID)

    response = client.post(url, _valid_form(), HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["code"] == 20003


def test_it_rejects_another_accounts_calls(client):
    response = client.post(CALLS.format(sid="AC" + "1" * 32), _valid_form(), **_auth())

    assert response.status_code == 404
    assert response.json()["code"] == 20404


@over_http
def test_it_rejects_an_invalid_to_number_for_the_real_client(twilio):
    with pytest.raises(TwilioRestException) as e:
        _create(twilio, to="+1415555")

    assert (e.value.status, e.value.code) == (400, 21211)
    assert not SimCall.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"To": None}, 21201),
        ({"From": None}, 21213),
        ({"To": "not a number"}, 21211),
        ({"From": "12"}, 21212),
        ({"Url": "ftp://example.test/v"}, 21205),
        ({"Url": "/voice/TXN001/step0"}, 21205),
        ({"Url": None}, 21205),
        ({"StatusCallback": "nowhere"}, 21609),
        ({"Method": "PUT"}, 21200),
        ({"Timeout": "soon"}, 21200),
        ({"StatusCallbackEvent": "hung-up"}, 21200),
        ({"MachineDetection": "Maybe"}, 21200),
        ({"To": "+15005550002"}, 21214),
    ],
)
def test_it_answers_bad_input_with_twilios_error(client, changes, code):
    response = _post(client, _valid_form(**changes))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["status"] == 400
    assert body["more_info"].endswith(str(code))
    assert body["message"]
    assert not SimCall.objects.exists()


@over_http
def test_it_lists_calls_by_number_and_start_time_for_the_real_client(twilio):
    before = _create(twilio, to="+14155550101")
    SimCall.objects.filter(sid=before.sid).update(start_time=datetime.now(UTC) - timedelta(hours=2))
    recent = _create(twilio, to="+14155550101")
    _create(twilio, to="+14155550102")

    found = twilio.calls.list(
        to="+14155550101", start_time_after=datetime.now(UTC) - timedelta(hours=1)
    )

    assert [c.sid for c in found] == [recent.sid]


@over_http
def test_it_pages_the_list_as_twilio_does(twilio):
    sids = {_create(twilio).sid for _ in range(5)}

    pages = twilio.calls.page(page_size=2)
    seen = [c.sid for c in pages]
    while (pages := pages.next_page()) is not None:
        seen += [c.sid for c in pages]

    assert sorted(seen) == sorted(sids)
    assert len(seen) == 5


def test_the_list_follows_twilios_paging_shape(client):
    _post(client, _valid_form())

    body = client.get(CALLS.format(sid=settings.TWILIO_SID), {"PageSize": 1}, **_auth()).json()

    full = rest.schema()
    jsonschema.validate(body, {**full["list_calls_response"], "definitions": full["definitions"]})
    assert body["next_page_uri"] is None
    assert body["first_page_uri"].startswith("/2010-04-01/Accounts/")


@over_http
def test_it_fetches_one_call_for_the_real_client(twilio):
    placed = _create(twilio)

    fetched = twilio.calls(placed.sid).fetch()

    assert fetched.sid == placed.sid
    assert fetched.status == "queued"


def test_it_answers_an_unknown_call_with_twilios_404(client):
    url = f"/simulator/api/2010-04-01/Accounts/{settings.TWILIO_SID}/Calls/CA{'0' * 32}.json"

    response = client.get(url, **_auth())

    assert response.status_code == 404
    assert response.json()["code"] == 20404


def test_it_rejects_other_methods(client):
    one = f"/simulator/api/2010-04-01/Accounts/{settings.TWILIO_SID}/Calls/CA{'0' * 32}.json"

    assert client.put(CALLS.format(sid=settings.TWILIO_SID), **_auth()).status_code == 405
    assert client.post(one, **_auth()).status_code == 405


@pytest.mark.parametrize("query", [{"StartTime>": "yesterday"}, {"Page": "two"}])
def test_the_list_answers_bad_filters_with_twilios_error(client, query):
    response = client.get(CALLS.format(sid=settings.TWILIO_SID), query, **_auth())

    assert response.status_code == 400
    assert response.json()["code"] == 20001


def test_it_needs_no_csrf_token(client):
    client.handler.enforce_csrf_checks = True

    assert _post(client, _valid_form()).status_code == 201


def test_it_is_404_when_simulation_is_off(client, settings):
    settings.SIMULATION = False

    assert _post(client, _valid_form()).status_code == 404
    assert not SimCall.objects.exists()


def test_real_credentials_switch_the_simulator_off():
    env = {
        **os.environ,
        "TWILIO_SID": "AC" + "a" * 32,
        "TWILIO_AUTH_TOKEN": "real-token",
        "TWILIO_NUMBER": "+15005550006",
        "ALLOWED_HOSTS": "testserver",
    }
    probe = (
        "import json; from django.conf import settings; from django.test import Client; "
        "r = Client().post('/simulator/api/2010-04-01/Accounts/AC%s/Calls.json'); "
        "print(json.dumps([settings.SIMULATION, settings.TWILIO_API_BASE_URL, r.status_code]))"
        % ("a" * 32)
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )

    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, "", 404]
