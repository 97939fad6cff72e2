"""The call's state machine: what was heard, what it changes, what is said next.

Views hand in Twilio's parameters and get back a `Reply` (lines to say, then
either a question or a hang-up). Everything the machine needs to remember
lives in the database: the attempt's current step, its CallEvent rows (re-asks
are counted from them) and the transaction's answers and status. Every status
change is a conditional UPDATE, so repeated, late or racing webhooks never
undo a customer's answer.
"""

import logging
import string
from dataclasses import dataclass, field

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from transactions.models import (
    FINAL_STATUSES,
    CallAttempt,
    CallEvent,
    CallOutcome,
    QueueState,
    Status,
    Transaction,
)

from . import script
from .intents import Intent, interpret

logger = logging.getLogger(__name__)

# Sent (after commit) when Twilio reports a call's end: automatic retries listen here.
call_finished = Signal()  # kwargs: attempt

MACHINE_ANSWERS = {
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
}
TERMINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
# Order of call progress, for callbacks that come without a SequenceNumber.
_PROGRESS_RANK = {"": -1, "queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
_TERMINAL_RANK = 4
# Twilio's terminal CallStatus → (outcome when none was recorded, the row's status).
_ENDINGS = {
    "busy": (CallOutcome.BUSY, Status.NOT_ANSWERED),
    "no-answer": (CallOutcome.NO_ANSWER, Status.NOT_ANSWERED),
    "failed": (CallOutcome.FAILED, Status.DISCONNECTED),
    "canceled": (CallOutcome.FAILED, Status.DISCONNECTED),
    "completed": (CallOutcome.DROPPED, Status.DISCONNECTED),
}
ENDED = "end"  # current_step once we have said goodbye


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
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


_MAX_COLUMN_INT = 2**31 - 1  # what an IntegerField holds on every database


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


def find_call(public_id: str, call_sid: str, *, with_transaction=True) -> CallAttempt | None:
    """The attempt a webhook is about, with its transaction (one indexed query), locked.

    with_transaction=False leaves the transaction's columns out (status
    callbacks never read them): a smaller query to build and read.

    Twilio's first webhook can beat request_call to storing the SID (the REST
    answer and the callback race), so an unknown SID is given to the
    transaction's latest attempt that is still waiting for one.
    """
    # Locked until the caller's transaction ends: one webhook of a call at a time, so a
    # retried request waits and then sees the step already moved on.
    if len(call_sid) > CallAttempt._meta.get_field("call_sid").max_length:
        return None  # no SID of ours is that long
    if call_sid:
        attempt = _by_sid(call_sid, public_id, with_transaction)
        if attempt is not None:
            return attempt
    attempts = CallAttempt.objects.select_for_update(of=("self",))
    if with_transaction:
        attempts = attempts.select_related("transaction")
    latest = attempts.filter(transaction__public_id=public_id).order_by("-id").first()
    if latest is not None and call_sid and latest.call_sid == call_sid:
        return latest  # a request racing ours filled it while we waited for the lock
    if latest is None or latest.call_sid or latest.outcome or not call_sid:
        return None
    try:
        with transaction.atomic():
            filled = CallAttempt.objects.filter(pk=latest.pk, call_sid__isnull=True).update(
                call_sid=call_sid
            )
    except IntegrityError:  # the SID belongs to another transaction's call
        return None
    if not filled:
        return None
    latest.call_sid = call_sid
    return latest


# Every webhook looks its call up by SID, and building that query cost more than
# running it: it is compiled once per database and shape, then only run.
_SID_QUERIES = {}


def _by_sid(call_sid: str, public_id: str, with_transaction: bool) -> CallAttempt | None:
    db = router.db_for_write(CallAttempt)
    key = (db, with_transaction)
    if key not in _SID_QUERIES:
        _SID_QUERIES[key] = _compile_sid_query(db, with_transaction)
    sql, order, converters, columns = _SID_QUERIES[key]
    connection = connections[db]
    values = {"sid": call_sid, "public_id": public_id}
    with connection.cursor() as cursor:
        cursor.execute(sql, [values[name] for name in order])
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for position, (functions, expression) in converters.items():
        for convert in functions:
            row[position] = convert(row[position], expression, connection)
    objects = {}
    for model, (start, end, names) in columns.items():
        objects[model] = model.from_db(db, names, row[start:end])
    attempt = objects[CallAttempt]
    if Transaction in objects:
        attempt.transaction = objects[Transaction]
    return attempt


def _compile_sid_query(db: str, with_transaction: bool):
    """(SQL, parameter order, converters, {model: (first, end, attnames)}) of the lookup.

    Compiled from the ORM's own queryset, so it is exactly the SQL Django runs;
    placeholders are matched to names by the marker values compiled in.
    """
    attempts = CallAttempt.objects.using(db).select_for_update(of=("self",))
    if with_transaction:
        attempts = attempts.select_related("transaction")
    markers = {"sid": "\x01sid", "public_id": "\x01public_id"}
    # At most one row (the SID is unique): no ORDER BY to build or run.
    queryset = attempts.filter(
        call_sid=markers["sid"], transaction__public_id=markers["public_id"]
    ).order_by()[:1]
    compiler = queryset.query.get_compiler(using=db)
    sql, params = compiler.as_sql()
    names = {value: name for name, value in markers.items()}
    order = [names[param] for param in params]  # KeyError: a parameter we did not expect
    expressions = [expression for expression, _, _ in compiler.select]
    converters = compiler.get_converters(expressions)
    columns = {}
    for position, expression in enumerate(expressions):
        model = expression.target.model
        start, _, attnames = columns.get(model, (position, None, []))
        attnames.append(expression.target.attname)
        columns[model] = (start, position + 1, attnames)
    return sql, order, converters, columns


def _is_latest(attempt: CallAttempt):
    """Condition: no newer attempt exists for the row (an old call's news changes nothing)."""
    newer = CallAttempt.objects.filter(transaction_id=OuterRef("pk"), pk__gt=attempt.pk)
    return ~Exists(newer)


def _update_txn(attempt: CallAttempt, *conditions, **values) -> bool:
    values["updated_at"] = timezone.now()
    if not conditions:
        return _update_by_pk(Transaction, attempt.transaction_id, values)
    changed = Transaction.objects.filter(*conditions, pk=attempt.transaction_id).update(**values)
    return bool(changed)


@dataclass(frozen=True)
class _Unless:
    """SET a column to `value`, except in a row whose status is one of `statuses` (it stays).

    Lets one UPDATE set several columns, each under its own condition, as the
    database sees the row at that moment.
    """

    statuses: tuple
    value: object


def _set_attempt(attempt: CallAttempt, condition: Q | None = None, **values) -> None:
    if condition is None:
        changed = _update_by_pk(CallAttempt, attempt.pk, values)
    else:
        changed = CallAttempt.objects.filter(condition, pk=attempt.pk).update(**values)
    if changed:
        for name, value in values.items():
            setattr(attempt, name, value)


# The webhooks' most frequent writes (a row's update by primary key, the call's
# new events) as the SQL the ORM would send, built once per shape: the ORM spent
# longer building these statements than the database running them, and on
# SQLite that time is spent holding the database's one write lock.
_STATEMENTS = {}


def _update_by_pk(model, pk, values: dict, where=("", ())) -> bool:
    """UPDATE one row of `model`: {field name: value or _Unless}; whether it changed.

    `where`: (condition, parameters), a further condition on the row, its
    columns written as {field_name}.
    """
    connection = connections[router.db_for_write(model)]
    fields = [model._meta.get_field(name) for name in values]
    shape = tuple((n, v.statuses if isinstance(v, _Unless) else None) for n, v in values.items())
    condition, condition_params = where
    key = (connection.alias, model, shape, condition)
    if key not in _STATEMENTS:
        qn = connection.ops.quote_name
        status = qn(model._meta.get_field("status").column) if model is Transaction else ""
        assignments = []
        for field, (_, statuses) in zip(fields, shape, strict=True):
            column = qn(field.column)
            if statuses is None:
                assignments.append(f"{column} = %s")
            else:
                listed = ", ".join(["%s"] * len(statuses))
                assignments.append(
                    f"{column} = CASE WHEN {status} IN ({listed}) THEN {column} ELSE %s END"
                )
        if condition:
            names = {name for _, name, _, _ in string.Formatter().parse(condition) if name}
            columns = {name: qn(model._meta.get_field(name).column) for name in names}
            condition = " AND " + condition.format(**columns)
        _STATEMENTS[key] = (
            f"UPDATE {qn(model._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
            f"WHERE {qn(model._meta.pk.column)} = %s{condition}"
        )
    params = []
    for field, value in zip(fields, values.values(), strict=True):
        if isinstance(value, _Unless):
            params += [str(s) for s in value.statuses]
            value = value.value
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(_STATEMENTS[key], [*params, pk, *condition_params])
        return cursor.rowcount > 0


def _record(events: list[CallEvent]) -> None:
    """INSERT the events in one statement, as bulk_create would (their ids are not read)."""
    if not events:
        return
    connection = connections[router.db_for_write(CallEvent)]
    fields = [f for f in CallEvent._meta.concrete_fields if not f.primary_key]
    key = (connection.alias, "insert", len(events))
    if key not in _STATEMENTS:
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in fields)
        row = f"({', '.join(['%s'] * len(fields))})"
        _STATEMENTS[key] = (
            f"INSERT INTO {qn(CallEvent._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES {', '.join([row] * len(events))}"
        )
    # pre_save fills created_at (auto_now_add) exactly as a save would.
    params = [f.get_db_prep_save(f.pre_save(e, True), connection) for e in events for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_STATEMENTS[key], params)


# --- replies


def _prompt_event(attempt: CallAttempt, step, text: str) -> CallEvent:
    return CallEvent(call=attempt, kind=CallEvent.Kind.PROMPT, step=str(step), prompt=text)


def _ask(attempt: CallAttempt, step: int, lines=(), events=(), also=None) -> Reply:
    """Say `lines` (each a (step, text) pair), then ask question `step`; record it all.

    `also`: more of the attempt's fields to set in the same UPDATE.
    """
    txn = attempt.transaction
    question = Question(step, script.prompt(step, txn), script.HINTS[step])
    records = [*events]
    records += [_prompt_event(attempt, s, text) for s, text in lines]
    records.append(_prompt_event(attempt, step, question.text))
    _record(records)
    _set_attempt(attempt, current_step=str(step), **(also or {}))
    return Reply([text for _, text in lines], question)


def _end(attempt: CallAttempt, lines, events=(), also=None) -> Reply:
    """Say `lines` ((step, text) pairs) and hang up; the call asks nothing more."""
    records = [*events, *(_prompt_event(attempt, s, text) for s, text in lines)]
    _record(records)
    _set_attempt(attempt, current_step=ENDED, **(also or {}))
    return Reply([text for _, text in lines], None)


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
        if answered_by in MACHINE_ANSWERS:
            return _voicemail(attempt, answered_by)
        # The row is locked (read in this transaction), so what we read decides
        # the conditions, and every change to the attempt goes in one UPDATE.
        answered = {} if attempt.answered_at else {"answered_at": timezone.now()}
        if answered_by:
            answered["answered_by"] = answered_by
        if attempt.current_step == ENDED:
            if answered:
                _set_attempt(attempt, **answered)
            return Reply([], None)
        # A repeated request mid-call asks the question we are at, not step 0 again.
        step = int(attempt.current_step) if attempt.current_step.isdigit() else 0
        return _ask(attempt, step, also=answered)


def _voicemail(attempt: CallAttempt, answered_by: str) -> Reply:
    _set_attempt(attempt, answered_by=answered_by)
    _set_attempt(attempt, Q(outcome=""), outcome=CallOutcome.VOICEMAIL)
    _update_txn(
        attempt, _is_latest(attempt), Q(status=Status.CONNECTING), status=Status.NOT_ANSWERED
    )
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
    if intent == Intent.UNCLEAR:
        return _unclear(attempt, step, heard, said)
    if step == 0 and intent == Intent.YES:
        # A denial already recorded for the row is never turned into a yes.
        _update_txn(
            attempt,
            authorized=_Unless((Status.FRAUD,), True),
            status=_Unless(FINAL_STATUSES, Status.RESOLVED),
        )
        goodbye = [("end", script.say(script.GOODBYE_CONFIRMED, txn))]
        return _end(attempt, goodbye, [heard], also={"outcome": CallOutcome.CONFIRMED})
    if step == 0 and intent == Intent.NO:
        # Recorded the moment it is heard: a call that drops later keeps it.
        _update_txn(
            attempt,
            authorized=False,
            status=_Unless(FINAL_STATUSES, Status.FRAUD),
        )
        return _ask(attempt, 1, events=[heard], also={"outcome": CallOutcome.DENIED})
    if step == 1 and intent in (Intent.YES, Intent.NO):
        _update_txn(attempt, shared_card_details=intent == Intent.YES)
        return _ask(attempt, 2, events=[heard])
    if step == 2 and intent in (Intent.YES, Intent.NO):
        _update_txn(attempt, other_suspicious=intent == Intent.YES)
        return _ask(attempt, 4, lines=[(3, script.prompt(3, txn))], events=[heard])
    if step == 4 and intent in (Intent.PHYSICAL, Intent.VIRTUAL):
        _update_txn(attempt, card_delivery=intent)
        steps = (5, 6, 7) if intent == Intent.PHYSICAL else (8,)
        note = CallEvent(
            call=attempt, kind=CallEvent.Kind.NOTE, step=str(steps[-1]), prompt="Fraud case logged"
        )
        lines = [(s, script.prompt(s, txn)) for s in steps]
        return _end(attempt, lines, [heard, note])
    # An intent that does not answer this question: treat it as unclear.
    heard.intent = Intent.UNCLEAR
    return _unclear(attempt, step, heard, said)


def _unclear(attempt: CallAttempt, step: int, heard: CallEvent, said: bool) -> Reply:
    earlier = attempt.events.filter(
        kind=CallEvent.Kind.ANSWER, step=str(step), intent=Intent.UNCLEAR
    ).count()
    if earlier < script.MAX_REASKS:
        sorry = script.REASK_UNCLEAR if said else script.REASK_SILENCE
        return _ask(attempt, step, lines=[("reask", sorry)], events=[heard])
    # Out of re-asks: a polite goodbye. The status callback then decides the
    # row (Disconnected), unless a denial was already heard (Mark As Fraud stays).
    _set_attempt(attempt, Q(outcome=""), outcome=CallOutcome.UNCLEAR)
    denied = attempt.outcome == CallOutcome.DENIED
    goodbye = script.GOODBYE_AFTER_DENIAL if denied else script.GOODBYE_UNCLEAR
    return _end(attempt, [("end", script.say(goodbye, attempt.transaction))], [heard])


def _opt_out(attempt: CallAttempt, heard: CallEvent) -> Reply:
    now = timezone.now()
    _update_txn(attempt, Q(opted_out_at__isnull=True), opted_out_at=now)
    # No more automatic calls about it; an analyst may still call on purpose.
    _update_txn(attempt, queue_state=QueueState.NONE, next_call_at=None)
    # A denial heard earlier in the call stays the outcome that matters.
    _set_attempt(attempt, Q(outcome=""), outcome=CallOutcome.OPTED_OUT)
    note = CallEvent(call=attempt, kind=CallEvent.Kind.NOTE, prompt="Customer opted out of calls")
    goodbye = script.say(script.GOODBYE_OPT_OUT, attempt.transaction)
    return _end(attempt, [("end", goodbye)], [heard, note])


# --- status callbacks


def apply_status(public_id: str, params) -> bool:
    """Apply one status callback; False when it changed nothing (unknown, repeated or late)."""
    call_sid = params.get("CallSid", "")
    call_status = params.get("CallStatus", "")
    if not call_sid or _rank(call_status) < 0:
        return False
    sequence = _int(params.get("SequenceNumber"))
    with transaction.atomic():
        attempt = find_call(public_id, call_sid, with_transaction=False)
        if attempt is None:
            logger.info("Status callback for an unknown call of %s", public_id)
            return False
        if not _advance(attempt, call_status, sequence):
            return False
        _record(
            [
                CallEvent(
                    call=attempt,
                    kind=CallEvent.Kind.STATUS,
                    call_status=call_status,
                    sequence_number=sequence,
                )
            ]
        )
        if call_status == "in-progress":
            _set_attempt(attempt, Q(answered_at__isnull=True), answered_at=timezone.now())
        if call_status in TERMINAL_STATUSES:
            _finish(attempt, call_status, params)
            transaction.on_commit(lambda: call_finished.send(CallAttempt, attempt=attempt))
    return True


def _advance(attempt: CallAttempt, call_status: str, sequence: int | None) -> bool:
    """Move the attempt's Twilio status forward, never back; False for a repeat or a late one."""
    if sequence is not None:
        newer = ("({last_sequence} IS NULL OR {last_sequence} < %s)", [sequence])
        values = {"twilio_status": call_status, "last_sequence": sequence}
    else:
        if _rank(call_status) <= _rank(attempt.twilio_status):
            return False
        # Compare-and-set on the status we read.
        newer = ("{twilio_status} = %s", [attempt.twilio_status])
        values = {"twilio_status": call_status}
    changed = _update_by_pk(CallAttempt, attempt.pk, values, where=newer)
    if changed:
        for name, value in values.items():
            setattr(attempt, name, value)
    return bool(changed)


def _finish(attempt: CallAttempt, call_status: str, params) -> None:
    answered_by = params.get("AnsweredBy", "")[:32]
    outcome, new_status = _ENDINGS[call_status]
    if answered_by in MACHINE_ANSWERS:
        outcome, new_status = CallOutcome.VOICEMAIL, Status.NOT_ANSWERED
    values = {"ended_at": timezone.now()}
    duration = _int(params.get("CallDuration"))
    if duration is not None:
        values["duration_seconds"] = duration
    if answered_by:
        values["answered_by"] = answered_by
    _set_attempt(attempt, **values)
    _set_attempt(attempt, Q(outcome=""), outcome=outcome)
    # Only a row still waiting on this call moves: never Resolved or Mark As Fraud.
    _update_txn(attempt, _is_latest(attempt), Q(status=Status.CONNECTING), status=new_status)
