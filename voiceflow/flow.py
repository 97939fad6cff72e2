"""The call's state machine: what was heard, what it changes, what is said next.

Views hand in Twilio's parameters and get back a `Reply` (lines to say, then
either a question or a hang-up). Everything the machine needs to remember
lives in the database: the attempt's current step, its CallEvent rows (re-asks
are counted from them) and the transaction's answers and status. Each webhook
locks its call attempt for its database transaction, so a repeated or racing
webhook of the same call waits and then sees the step already moved on. The
transaction's status changes only through its model methods (conditional
updates): a late or repeated webhook never undoes a customer's verdict.
"""

import logging
import math
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from transactions.models import (
    CallAttempt,
    CallEvent,
    CallOutcome,
    Status,
    Verdict,
)

from . import autocall, script
from .intents import Intent, interpret

logger = logging.getLogger(__name__)

MACHINE_ANSWERS = {
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
}
TERMINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
# Order of call progress: a callback never moves a call back.
_PROGRESS_RANK = {"": -1, "queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
_TERMINAL_RANK = 4
# Twilio's terminal CallStatus → (outcome when none was recorded, the status of a row
# still waiting on the call).
_ENDINGS = {
    "busy": (CallOutcome.BUSY, Status.NOT_ANSWERED),
    "no-answer": (CallOutcome.NO_ANSWER, Status.NOT_ANSWERED),
    "failed": (CallOutcome.FAILED, Status.DISCONNECTED),
    "canceled": (CallOutcome.FAILED, Status.DISCONNECTED),
    "completed": (CallOutcome.DROPPED, Status.DISCONNECTED),
}
ENDED = "end"  # current_step once we have said goodbye
_MAX_COLUMN_INT = 2**31 - 1  # what an IntegerField holds on every database


class UnknownStep(Exception):
    """A response URL for a step that asks nothing."""


@dataclass(frozen=True)
class Question:
    step: int
    text: str
    hints: str


@dataclass
class Reply:
    """What to say, then the question to ask; no question means hang up."""

    lines: list[str] = field(default_factory=list)
    ask: Question | None = None


def _rank(call_status: str) -> int:
    if call_status in TERMINAL_STATUSES:
        return _TERMINAL_RANK
    return _PROGRESS_RANK.get(call_status, -1)


def _confidence(value) -> float | None:
    """Twilio's Confidence as a number; None when none was sent.

    Anything sent that is not a finite number (nan, inf, garbage) counts as no
    confidence at all (0.0): a "yes" heard that way is asked again.
    """
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _int(value) -> int | None:
    """A non-negative integer that fits our columns, or None (absent or nonsense)."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    if number is None or not 0 <= number <= _MAX_COLUMN_INT:
        return None
    return number


# --- finding the call


def find_call(public_id: str, call_sid: str) -> CallAttempt | None:
    """The attempt a webhook is about, with its transaction, locked until the webhook commits.

    Twilio's first webhook can beat request_call to storing the SID (the REST
    answer and the callback race), so an unknown SID is given to the
    transaction's latest attempt that is still waiting for one.
    """
    if len(call_sid) > CallAttempt._meta.get_field("call_sid").max_length:
        return None  # no SID of ours is that long
    attempts = CallAttempt.objects.select_for_update(of=("self",)).select_related("transaction")
    if call_sid:
        attempt = attempts.filter(call_sid=call_sid, transaction__public_id=public_id).first()
        if attempt is not None:
            return attempt
    latest = attempts.filter(transaction__public_id=public_id).order_by("-id").first()
    if latest is not None and call_sid and latest.call_sid == call_sid:
        return latest  # a request racing ours gave it the SID while we waited for the lock
    if latest is None or not call_sid or latest.call_sid or latest.outcome:
        return None
    try:
        adopted = latest.adopt(call_sid)
    except IntegrityError:  # the SID belongs to another transaction's call
        return None
    return latest if adopted else None


# --- replies


def _prompt_event(attempt: CallAttempt, step, text: str) -> CallEvent:
    return CallEvent(call=attempt, kind=CallEvent.Kind.PROMPT, step=str(step), prompt=text)


def _save(attempt: CallAttempt, **values) -> None:
    for name, value in values.items():
        setattr(attempt, name, value)
    attempt.save(update_fields=list(values))


def _set_outcome(attempt: CallAttempt, outcome: str) -> None:
    """The call's outcome, unless one was recorded already (a denial heard earlier stays)."""
    if not attempt.outcome:
        _save(attempt, outcome=outcome)


def _ask(attempt: CallAttempt, step: int, lines=(), events=()) -> Reply:
    """Say `lines` (each a (step, text) pair), then ask question `step`; record it all."""
    question = Question(step, script.prompt(step, attempt.transaction), script.HINTS[step])
    CallEvent.objects.bulk_create(
        [
            *events,
            *(_prompt_event(attempt, s, text) for s, text in lines),
            _prompt_event(attempt, step, question.text),
        ]
    )
    _save(attempt, current_step=str(step))
    return Reply([text for _, text in lines], question)


def _end(attempt: CallAttempt, lines, events=()) -> Reply:
    """Say `lines` ((step, text) pairs) and hang up; the call asks nothing more."""
    CallEvent.objects.bulk_create(
        [*events, *(_prompt_event(attempt, s, text) for s, text in lines)]
    )
    _save(attempt, current_step=ENDED)
    return Reply([text for _, text in lines], None)


def _goodbye(attempt: CallAttempt, text: str, events=()) -> Reply:
    return _end(attempt, [("end", script.say(text, attempt.transaction))], events)


def goodbye_unknown() -> Reply:
    return Reply([script.GOODBYE_UNKNOWN], None)


# --- the voice webhooks


def start(public_id: str, params) -> Reply:
    """The call is answered (/voice/<id>/step0): greet and ask step 0, or leave a voicemail."""
    with transaction.atomic():
        attempt = find_call(public_id, params.get("CallSid", ""))
        if attempt is None:
            logger.info("Voice webhook for an unknown call of %s", public_id)
            return goodbye_unknown()
        answered_by = params.get("AnsweredBy", "")[:32]
        if answered_by:
            _save(attempt, answered_by=answered_by)
        if answered_by in MACHINE_ANSWERS:
            return _voicemail(attempt)
        if not attempt.answered_at:
            _save(attempt, answered_at=timezone.now())
        if attempt.current_step == ENDED:
            return Reply([], None)
        # A repeated request mid-call asks the question we are at, not step 0 again.
        step = int(attempt.current_step) if attempt.current_step.isdigit() else 0
        return _ask(attempt, step)


def _voicemail(attempt: CallAttempt) -> Reply:
    _set_outcome(attempt, CallOutcome.VOICEMAIL)
    attempt.transaction.record_call_end(attempt, Status.NOT_ANSWERED)
    return _end(attempt, [("voicemail", script.say(script.VOICEMAIL, attempt.transaction))])


def answer(public_id: str, step: int, params) -> Reply:
    """The customer answered question `step` (/voice/<id>/step<N>/response)."""
    if step not in script.QUESTION_STEPS:
        raise UnknownStep(step)
    with transaction.atomic():
        attempt = find_call(public_id, params.get("CallSid", ""))
        if attempt is None:
            logger.info("Answer for an unknown call of %s", public_id)
            return goodbye_unknown()
        if attempt.current_step == ENDED:
            return Reply([], None)
        current = attempt.current_step or "0"
        if current != str(step):
            # A repeated or stray answer: ask the question we are really at.
            return _ask(attempt, int(current)) if current.isdigit() else Reply([], None)
        speech = params.get("SpeechResult", "")
        digits = params.get("Digits", "")
        confidence = _confidence(params.get("Confidence"))
        intent = interpret(step, speech, digits, confidence)
        heard = CallEvent(
            call=attempt,
            kind=CallEvent.Kind.ANSWER,
            step=str(step),
            speech_result=speech[:1000],
            confidence=confidence,
            digits=digits[:32],
            intent=intent,
        )
        return _decide(attempt, step, intent, heard, bool(speech or digits))


def _decide(attempt: CallAttempt, step: int, intent: str, heard: CallEvent, said: bool) -> Reply:
    txn = attempt.transaction
    if intent == Intent.OPT_OUT:
        return _opt_out(attempt, heard)
    if step == 0 and intent in (Intent.YES, Intent.NO):
        return _verdict(attempt, heard, authorized=intent == Intent.YES)
    if step == 1 and intent in (Intent.YES, Intent.NO):
        txn.record_details(shared_card_details=intent == Intent.YES)
        return _ask(attempt, 2, events=[heard])
    if step == 2 and intent in (Intent.YES, Intent.NO):
        txn.record_details(other_suspicious=intent == Intent.YES)
        return _ask(attempt, 4, lines=[(3, script.prompt(3, txn))], events=[heard])
    if step == 4 and intent in (Intent.PHYSICAL, Intent.VIRTUAL):
        txn.record_details(card_delivery=intent)
        steps = (5, 6, 7) if intent == Intent.PHYSICAL else (8,)
        note = CallEvent(
            call=attempt, kind=CallEvent.Kind.NOTE, step=str(steps[-1]), prompt="Fraud case logged"
        )
        return _end(attempt, [(s, script.prompt(s, txn)) for s in steps], [heard, note])
    if intent != Intent.UNCLEAR:
        # An intent that does not answer this question: treat it as unclear.
        heard.intent = Intent.UNCLEAR
    return _unclear(attempt, step, heard, said)


def _verdict(attempt: CallAttempt, heard: CallEvent, *, authorized: bool) -> Reply:
    """Step 0's yes or no: recorded on the attempt, applied to the row only if it has no verdict."""
    _save(attempt, outcome=CallOutcome.CONFIRMED if authorized else CallOutcome.DENIED)
    verdict = attempt.transaction.record_answer(authorized)
    if verdict == Verdict.CONTRADICTED:
        note = CallEvent(
            call=attempt,
            kind=CallEvent.Kind.NOTE,
            prompt="The answer contradicts the recorded verdict: flagged for review",
        )
        return _goodbye(attempt, script.GOODBYE_REVIEW, [heard, note])
    if authorized:
        return _goodbye(attempt, script.GOODBYE_CONFIRMED, [heard])
    # Recorded the moment it is heard: a call that drops later keeps it.
    return _ask(attempt, 1, events=[heard])


def _unclear(attempt: CallAttempt, step: int, heard: CallEvent, said: bool) -> Reply:
    earlier = attempt.events.filter(
        kind=CallEvent.Kind.ANSWER, step=str(step), intent=Intent.UNCLEAR
    ).count()
    if earlier < script.MAX_REASKS:
        sorry = script.REASK_UNCLEAR if said else script.REASK_SILENCE
        return _ask(attempt, step, lines=[("reask", sorry)], events=[heard])
    # Out of re-asks: a polite goodbye. The status callback then ends the call
    # (Disconnected), unless a denial was already heard (Mark As Fraud stays).
    denied = attempt.outcome == CallOutcome.DENIED
    _set_outcome(attempt, CallOutcome.UNCLEAR)
    goodbye = script.GOODBYE_AFTER_DENIAL if denied else script.GOODBYE_UNCLEAR
    return _goodbye(attempt, goodbye, [heard])


def _opt_out(attempt: CallAttempt, heard: CallEvent) -> Reply:
    # No more automatic calls about it; an analyst may still call on purpose.
    attempt.transaction.opt_out()
    _set_outcome(attempt, CallOutcome.OPTED_OUT)
    note = CallEvent(call=attempt, kind=CallEvent.Kind.NOTE, prompt="Customer opted out of calls")
    return _goodbye(attempt, script.GOODBYE_OPT_OUT, [heard, note])


# --- status callbacks


def apply_status(public_id: str, params) -> bool:
    """Apply one status callback; False when it changed nothing (unknown, repeated or late)."""
    call_sid = params.get("CallSid", "")
    call_status = params.get("CallStatus", "")
    if not call_sid or _rank(call_status) < 0:
        return False
    sequence = _int(params.get("SequenceNumber"))
    with transaction.atomic():
        attempt = find_call(public_id, call_sid)
        if attempt is None:
            logger.info("Status callback for an unknown call of %s", public_id)
            return False
        if not _advance(attempt, call_status, sequence):
            return False
        CallEvent.objects.create(
            call=attempt,
            kind=CallEvent.Kind.STATUS,
            call_status=call_status,
            sequence_number=sequence,
        )
        if call_status == "in-progress" and not attempt.answered_at:
            _save(attempt, answered_at=timezone.now())
        if call_status in TERMINAL_STATUSES:
            _finish(attempt, call_status, params)
    return True


def _advance(attempt: CallAttempt, call_status: str, sequence: int | None) -> bool:
    """Move the attempt's Twilio status forward, never back; False for a repeat or a late one.

    A SequenceNumber no higher than one applied is a repeat; and whatever its
    number, a callback never moves the call back (after an unsequenced final
    one, say).
    """
    last = attempt.last_sequence
    if sequence is not None and last is not None and sequence <= last:
        return False
    if _rank(call_status) <= _rank(attempt.twilio_status):
        if sequence is not None:
            _save(attempt, last_sequence=sequence)
        return False
    values = {"twilio_status": call_status}
    if sequence is not None:
        values["last_sequence"] = sequence
    _save(attempt, **values)
    return True


def _finish(attempt: CallAttempt, call_status: str, params) -> None:
    """The call ended: once per call (a swept or failed attempt has ended already)."""
    if attempt.ended_at is not None:
        return
    outcome, new_status = _ENDINGS[call_status]
    answered_by = params.get("AnsweredBy", "")[:32]
    if answered_by in MACHINE_ANSWERS:
        outcome, new_status = CallOutcome.VOICEMAIL, Status.NOT_ANSWERED
    values = {"ended_at": timezone.now()}
    duration = _int(params.get("CallDuration"))
    if duration is not None:
        values["duration_seconds"] = duration
    if answered_by:
        values["answered_by"] = answered_by
    if not attempt.outcome:
        values["outcome"] = outcome
    _save(attempt, **values)
    # Only a row still waiting on this call moves: never a verdict or a manual status.
    attempt.transaction.record_call_end(attempt, new_status)
    autocall.report_unreachable(attempt)
