"""The call engine: plays Twilio for one simulated call, over HTTP, signed as Twilio signs.

It sends the status callbacks the call asked for, fetches the call's Url,
runs the TwiML it gets back (Say, Pause, Gather, Redirect, Hangup) and posts
what the customer said to the Gather's action, until the call ends. The
customer is a person on the softphone when one picks up in time, else the
scripted persona chosen by the number (simulator/personas.py).
"""

import logging
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin
from urllib.request import Request, urlopen

from django.conf import settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from simulator.models import SimCall
from simulator.personas import PERSONAS

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
WEBHOOK_TIMEOUT = 15  # seconds: Twilio's limit for one webhook
MAX_DOCUMENTS = 200  # a TwiML loop that never ends is cut off here
WORDS_PER_SECOND = 2.5  # how fast <Say> speaks
PERSON_PATIENCE = 60  # seconds a person who has started typing may take to finish
POLL = 0.2
HEARTBEAT_SECONDS = 5  # how often a playing engine marks its call alive (models.LOST_AFTER)
# The SipResponseCode of each way a call ends.
SIP_CODES = {
    SimCall.State.COMPLETED: 200,
    SimCall.State.BUSY: 486,
    SimCall.State.NO_ANSWER: 480,
    SimCall.State.FAILED: 503,
}


class CallEnded(Exception):
    """The customer hung up (or the line dropped): stop playing TwiML."""


class CallLost(Exception):
    """The call was ended without this engine (taken for lost): stop, and send nothing more."""


class BargeIn(Exception):
    """The person answered while the prompt was still playing (Twilio's bargeIn)."""

    def __init__(self, reply: dict):
        super().__init__("barge-in")
        self.reply = reply


def run_call(call_sid: str, *, on_line=None) -> str:
    """Play the call to its end (once: a second runner finds it claimed). Returns its status."""
    call = SimCall.objects.get(sid=call_sid)
    if not call.claim_for_engine():
        return call.state
    try:
        Engine(call, on_line=on_line).run()
    except CallLost:
        call.refresh_from_db()
    except Exception:
        # Our own fault, not the customer's: end the call rather than leave it ringing forever.
        SimCall.objects.filter(pk=call.pk).exclude(state__in=SimCall.ENDED).update(
            state=SimCall.State.FAILED, end_time=timezone.now(), awaiting=None
        )
        raise
    return call.state


def end_lost_call(call_sid: str) -> bool:
    """End a call whose engine fell silent (its worker died) and send its final status
    callback, as Twilio ends a call it lost. False when the call is alive or has ended."""
    call = SimCall.objects.get(sid=call_sid)
    if not call.end_if_lost(timezone.now()):
        return False
    engine = Engine(call)
    engine.line("call", "The call was cut off: the worker playing it stopped.")
    engine._final_callback()
    engine.line("call", f"Final status: {call.state}.")
    log.warning("Simulated call %s lost its worker; ended as %s", call.sid, call.state)
    return True


class Engine:
    def __init__(self, call: SimCall, *, on_line=None):
        self.call = call
        self.persona = PERSONAS[call.persona]
        self.person = False  # a person on the softphone answered
        self.on_line = on_line
        self.listening = False  # a person's <Gather> is open: an answer may cut the prompt
        self.turns = 0  # questions asked so far: tells the softphone a new one from the last
        self.last_beat = time.monotonic()  # claiming the call was the first sign of life

    # --- time

    def _wait(self, seconds: float):
        """Wait `seconds` of call time: real for a person, scaled for a scripted customer."""
        name = "SIMULATOR_PERSON_TIME_SCALE" if self.person else "SIMULATOR_TIME_SCALE"
        scale = float(getattr(settings, name))
        deadline = time.monotonic() + seconds * scale
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, POLL))
            self._beat()
            if self.person:
                self._check_person()

    def _beat(self):
        """Mark the call alive now and then, so a dead worker's calls can be told apart."""
        if time.monotonic() - self.last_beat < HEARTBEAT_SECONDS:
            return
        self.last_beat = time.monotonic()
        if not self.call.beat():
            raise CallLost(self.call.sid)

    def _check_person(self):
        """Between two moments of a person's call: did they hang up, or answer already?"""
        row = SimCall.objects.filter(pk=self.call.pk).values("hangup_requested", "reply").get()
        if row["hangup_requested"]:
            raise CallEnded("the customer hung up")
        if self.listening and row["reply"] is not None:
            raise BargeIn(row["reply"])

    # --- the call

    def line(self, who: str, text: str):
        self.call.say(who, text)
        if self.on_line:
            self.on_line(who, text)

    def run(self):
        call = self.call
        self._set_state(SimCall.State.INITIATED)
        self._status_callback("initiated")
        if self.persona.pickup == "failed":
            self.line("call", "The call failed: the number could not be reached.")
            return self._finish(SimCall.State.FAILED)
        self._set_state(SimCall.State.RINGING)
        self._status_callback("ringing")
        self.line("call", f"Ringing {call.to}…")
        self.person = self._wait_for_softphone()
        if not self.person:
            outcome = self._scripted_pickup()
            if outcome:
                return outcome
        self._answer()
        try:
            self._play()
        except CallEnded as e:
            self.line("call", f"Call ended: {e}.")
        self._finish(SimCall.State.COMPLETED)

    def _wait_for_softphone(self) -> bool:
        pk = self.call.pk
        SimCall.objects.filter(pk=pk).update(ringing_on_softphone=True)
        deadline = time.monotonic() + float(settings.SIMULATOR_PICKUP_SECONDS)
        while time.monotonic() < deadline:
            if SimCall.objects.filter(pk=pk, softphone_user__isnull=False).exists():
                break
            time.sleep(POLL)
            self._beat()
        # Close the window first, then look: a click after this changes nothing.
        SimCall.objects.filter(pk=pk).update(ringing_on_softphone=False)
        if SimCall.objects.filter(pk=pk, softphone_user__isnull=False).exists():
            self.line("call", "Answered on the softphone.")
            return True
        return False

    def _scripted_pickup(self):
        """busy / no-answer end here; a machine or a scripted person answers."""
        pickup = self.persona.pickup
        if pickup == "busy":
            self._wait(2)
            self.line("call", "The line is busy.")
            return self._finish(SimCall.State.BUSY)
        if pickup == "no-answer":
            self._wait(self.call.ring_timeout)
            self.line("call", "Nobody answered.")
            return self._finish(SimCall.State.NO_ANSWER)
        self._wait(3)  # rings a few times
        return None

    def _answer(self):
        call = self.call
        machine = not self.person and self.persona.pickup == "machine"
        if call.machine_detection:
            if machine:
                beep = call.machine_detection == "DetectMessageEnd"
                call.answered_by = "machine_end_beep" if beep else "machine_start"
            else:
                call.answered_by = "human"
        if machine:
            self.line("call", "Voicemail picked up. (beep)")
        elif not self.person:
            self.line("call", f"Answered by the scripted customer: {self.persona.label}.")
        call.answered_at = timezone.now()
        self._set_state(
            SimCall.State.IN_PROGRESS, answered_by=call.answered_by, answered_at=call.answered_at
        )
        self._status_callback("answered")
        if call.machine_detection and call.async_amd and call.async_amd_status_callback:
            self._post(
                call.async_amd_status_callback,
                "POST",
                {
                    **self._call_params(),
                    "AnsweredBy": call.answered_by,
                    "MachineDetectionDuration": "2000",
                },
            )

    def _finish(self, state: str):
        call = self.call
        end = timezone.now()
        duration = call.seconds_answered(end) if state == SimCall.State.COMPLETED else 0
        ended = (
            SimCall.objects.filter(pk=call.pk)
            .exclude(state__in=SimCall.ENDED)
            .update(state=state, end_time=end, duration=duration, awaiting=None, updated_at=end)
        )
        if not ended:
            raise CallLost(call.sid)  # its final callback went when it was ended
        call.state, call.end_time, call.duration = state, end, duration
        self._final_callback()
        self.line("call", f"Final status: {state}.")
        return state

    def _final_callback(self):
        call = self.call
        extra = {"CallDuration": str(call.duration), "SipResponseCode": str(SIP_CODES[call.state])}
        if call.machine_detection and call.answered_by:
            extra["AnsweredBy"] = call.answered_by
        self._status_callback("completed", extra)

    def _set_state(self, state: str, **fields):
        """Move the call on, unless it was ended without us (taken for lost)."""
        moved = (
            SimCall.objects.filter(pk=self.call.pk)
            .exclude(state__in=SimCall.ENDED)
            .update(state=state, updated_at=timezone.now(), **fields)
        )
        if not moved:
            raise CallLost(self.call.sid)
        self.call.state = state

    # --- HTTP, signed as Twilio signs

    def _call_params(self) -> dict:
        call = self.call
        return {
            "AccountSid": call.account_sid,
            "CallSid": call.sid,
            "From": call.from_number,
            "To": call.to,
            "Caller": call.from_number,
            "Called": call.to,
            "Direction": "outbound-api",
            "ApiVersion": API_VERSION,
        }

    def _status_callback(self, event: str, extra: dict | None = None):
        call = self.call
        asked = call.status_callback_events or ["completed"]
        if not call.status_callback or event not in asked:
            return
        status = {"answered": SimCall.State.IN_PROGRESS, "completed": call.state}.get(event, event)
        sequence = call.sequence
        call.sequence += 1
        SimCall.objects.filter(pk=call.pk).update(sequence=call.sequence)
        params = {
            **self._call_params(),
            "CallStatus": status,
            "CallbackSource": "call-progress-events",
            "Timestamp": format_datetime(datetime.now(UTC)),
            "SequenceNumber": str(sequence),
            **(extra or {}),
        }
        self._post(call.status_callback, call.status_callback_method, params)

    def _post(self, url: str, method: str, params: dict) -> tuple[int, str] | None:
        """One webhook request; (status, body), or None when the server could not be reached."""
        params = {k: str(v) for k, v in params.items()}
        body = None
        if method.upper() == "GET":
            url = url + ("&" if "?" in url else "?") + urlencode(params)
            signed = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, {})
        else:
            body = urlencode(params).encode()
            signed = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
        request = Request(  # noqa: S310  (http(s) only: checked when the call was created)
            url,
            data=body,
            method=method.upper(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
                "X-Twilio-Signature": signed,
                "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            },
        )
        try:
            with urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310
                return response.status, response.read().decode("utf-8", "replace")
        except HTTPError as e:
            log.warning("Simulated call %s: %s answered %s", self.call.sid, url, e.code)
            return e.code, e.read().decode("utf-8", "replace")
        except (URLError, TimeoutError, ConnectionError) as e:
            log.warning("Simulated call %s: %s unreachable: %s", self.call.sid, url, e)
            return None

    # --- TwiML

    def _play(self):
        call = self.call
        extra = {"AnsweredBy": call.answered_by} if call.machine_detection else {}
        step = (call.url, call.method, extra)
        for _ in range(MAX_DOCUMENTS):
            if step is None:
                return
            url, method, extra = step
            document = self._fetch(url, method, extra)
            if document is None:
                raise CallEnded("an application error has occurred")
            step = self._run_document(document, url)
        self.line("call", "Too many TwiML documents: the call is cut off.")

    def _fetch(self, url: str, method: str, extra: dict):
        self._beat()
        answer = self._post(
            url, method, {**self._call_params(), "CallStatus": SimCall.State.IN_PROGRESS, **extra}
        )
        if answer is None or not 200 <= answer[0] < 300:
            self.line("call", f"Webhook {url} failed ({answer[0] if answer else 'unreachable'}).")
            return None
        try:
            root = ET.fromstring(answer[1])  # noqa: S314
        except ET.ParseError:
            self.line("call", f"Webhook {url} answered something that is not TwiML.")
            return None
        if root.tag != "Response":
            self.line("call", f"Webhook {url} answered <{root.tag}>, not <Response>.")
            return None
        return root

    def _run_document(self, root, doc_url: str):
        """Run the verbs in order; the next document to fetch, or None when the call ends."""
        for verb in root:
            if verb.tag in ("Say", "Pause"):
                self._speak(verb)
            elif verb.tag == "Gather":
                result = self._gather(verb)
                if result is None and verb.get("actionOnEmptyResult", "false") != "true":
                    continue  # silence: Twilio runs the verbs after <Gather>
                action = urljoin(doc_url, verb.get("action") or doc_url)
                return action, verb.get("method", "POST"), result or {}
            elif verb.tag == "Redirect":
                target = urljoin(doc_url, (verb.text or "").strip() or doc_url)
                return target, verb.get("method", "POST"), {}
            elif verb.tag in ("Hangup", "Reject"):
                self.line("call", "The bank hung up.")
                return None
            else:
                self.line("call", f"(<{verb.tag}> is not simulated; skipped)")
        return None

    def _speak(self, verb) -> str:
        """Play a <Say> or <Pause>; returns what was said."""
        if verb.tag == "Pause":
            self._wait(float(verb.get("length", "1")))
            return ""
        text = " ".join((verb.text or "").split())
        if text:
            self.line("bank", text)
            self._wait(max(1.0, len(text.split()) / WORDS_PER_SECOND))
        return text

    def _gather(self, verb) -> dict | None:
        """The customer's answer as Twilio posts it (SpeechResult+Confidence or Digits), or None."""
        nested = [child for child in verb if child.tag in ("Say", "Pause")]
        inputs = (verb.get("input") or "dtmf").split()
        gather = {
            "prompt": " ".join(" ".join((c.text or "").split()) for c in nested if c.tag == "Say"),
            "input": inputs,
            "timeout": float(verb.get("timeout", "5")),
            "hints": verb.get("hints", ""),
            "num_digits": verb.get("numDigits", ""),
        }
        if self.person:
            reply = self._person_reply(nested, gather)
        else:
            for child in nested:
                self._speak(child)
            reply = self._scripted_reply(gather)
        if reply and "digits" in reply and "dtmf" in inputs:
            self.line("customer", f"(presses {reply['digits']})")
            return {"Digits": reply["digits"]}
        if reply and reply.get("speech") and "speech" in inputs:
            self.line("customer", reply["speech"])
            confidence = reply.get("confidence", 0.9)
            return {"SpeechResult": reply["speech"], "Confidence": f"{confidence:.2f}"}
        self.line("customer", "(silence)")
        return None

    def _scripted_reply(self, gather: dict) -> dict | None:
        call = self.call
        if call.scripted_replies:
            answer, *rest = call.scripted_replies
            call.scripted_replies = rest
            SimCall.objects.filter(pk=call.pk).update(scripted_replies=rest)
        else:
            answer = self.persona.reply(gather["prompt"], gather)
        self._wait(1.5 if answer else gather["timeout"])
        return answer

    def _person_reply(self, nested, gather: dict) -> dict | None:
        """The softphone's answer: the person may answer while the prompt plays (bargeIn);
        the Gather timeout runs after it, until the person starts typing."""
        pk = self.call.pk
        self.turns += 1
        gather = {**gather, "turn": self.turns}
        SimCall.objects.filter(pk=pk).update(
            awaiting={**gather, "prompt_done": False},
            reply=None,
            person_speaking=False,
            updated_at=timezone.now(),
        )
        self.listening = True
        try:
            for child in nested:
                self._speak(child)
            SimCall.objects.filter(pk=pk).update(awaiting={**gather, "prompt_done": True})
            deadline = time.monotonic() + gather["timeout"]
            extended = False
            while True:
                self._beat()
                self._check_person()
                speaking = SimCall.objects.filter(pk=pk, person_speaking=True).exists()
                if speaking and not extended:
                    deadline, extended = time.monotonic() + PERSON_PATIENCE, True
                if time.monotonic() >= deadline:
                    return None
                time.sleep(POLL)
        except BargeIn as answered:
            return answered.reply
        finally:
            self.listening = False
            SimCall.objects.filter(pk=pk).update(
                awaiting=None, reply=None, person_speaking=False, updated_at=timezone.now()
            )
