"""The call, step by step, through signed requests as Twilio sends them."""

import pytest
from django.conf import settings

from transactions.models import CallEvent, CallOutcome, CallTrigger, QueueState, Status
from voiceflow import script
from voiceflow.tests.twiml import read

STEP0 = "/voice/TXN001/step0"


def respond(n: int) -> str:
    return f"/voice/TXN001/step{n}/response"


@pytest.fixture
def twilio(twilio_post, call):
    """POST as Twilio does during `call`: its CallSid and the usual parameters."""

    def post(path, **params):
        base = {
            "CallSid": call.call_sid,
            "AccountSid": settings.TWILIO_SID,
            "From": settings.TWILIO_NUMBER,
            "To": "+14155550101",
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }
        base.update(params)
        return twilio_post(path, base)

    return post


@pytest.fixture
def answered(twilio):
    """The customer has picked up and heard step 0."""
    assert twilio(STEP0).status_code == 200
    return twilio


def _status(txn):
    txn.refresh_from_db()
    return txn.status


def _answers(call):
    return list(
        CallEvent.objects.filter(call=call, kind=CallEvent.Kind.ANSWER).values_list(
            "step", "intent"
        )
    )


def test_step0_greets_with_the_transaction_and_asks(twilio, call, txn):
    twiml = read(twilio(STEP0))
    (question,) = twiml.said
    assert "Hello Asha Rao." in question
    assert "Example Bank" in question
    assert "Croma Electronics" in question
    assert "two thousand three hundred and fifty rupees and ten paise" in question
    assert "on 15 March 2025" in question
    assert "card ending in 4 8 2 1" in question
    assert "press 1 for yes and 2 for no" in question
    assert twiml.gather == {
        "input": "speech dtmf",
        "action": "http://testserver/voice/TXN001/step0/response",
        "method": "POST",
        "language": "en-IN",
        "hints": script.HINTS[0],
        "timeout": "5",
        "speechTimeout": str(script.SPEECH_TIMEOUT),
        "speechModel": script.SPEECH_MODEL,
        "numDigits": "1",
        "actionOnEmptyResult": "true",
    }
    assert not twiml.hangup
    call.refresh_from_db()
    assert call.answered_at is not None
    assert call.current_step == "0"
    prompt = CallEvent.objects.get(call=call, kind=CallEvent.Kind.PROMPT)
    assert prompt.step == "0" and prompt.prompt == question


@pytest.mark.parametrize(("speech", "digits"), [("Yes, I did.", ""), ("", "1"), ("haan ji", "")])
def test_a_yes_at_step0_resolves_and_hangs_up(answered, call, txn, speech, digits):
    twiml = read(answered(respond(0), SpeechResult=speech, Digits=digits, Confidence="0.9"))
    assert twiml.hangup and twiml.gather is None
    assert "Thank you for confirming" in twiml.text
    assert _status(txn) == Status.RESOLVED
    assert txn.authorized is True
    call.refresh_from_db()
    assert call.outcome == CallOutcome.CONFIRMED


@pytest.mark.parametrize(
    ("speech", "digits"), [("No, that's not correct", ""), ("", "2"), ("not me", "")]
)
def test_a_no_at_step0_marks_fraud_at_once_and_asks_step1(answered, call, txn, speech, digits):
    twiml = read(answered(respond(0), SpeechResult=speech, Digits=digits))
    assert _status(txn) == Status.FRAUD
    assert txn.authorized is False
    assert twiml.gather["action"] == "http://testserver" + respond(1)
    assert "shared your card details" in twiml.text
    call.refresh_from_db()
    assert call.outcome == CallOutcome.DENIED
    assert call.current_step == "1"


def test_the_physical_card_path_by_speech(answered, call, txn):
    read(answered(respond(0), SpeechResult="no", Confidence="0.93"))
    step2 = read(answered(respond(1), SpeechResult="yes I have shared", Confidence="0.8"))
    assert step2.gather["action"].endswith(respond(2))
    step4 = read(answered(respond(2), SpeechResult="nahi", Confidence="0.7"))
    # Step 3 (the block) is said, then step 4 is asked.
    assert "we will block this payment" in step4.said[0]
    assert step4.gather["action"].endswith(respond(4))
    assert "press 1 for a physical card and 2 for a virtual card" in step4.said[-1]
    assert step4.gather["hints"] == script.HINTS[4]
    end = read(answered(respond(4), SpeechResult="physical card please"))
    assert end.hangup
    assert "three to five working days" in end.said[0]
    assert "virtual card is ready" in end.said[1]
    assert "opened a fraud case" in end.said[2]

    assert _status(txn) == Status.FRAUD
    assert txn.answers() == {
        "authorized": False,
        "shared_card_details": True,
        "other_suspicious": False,
        "card_delivery": "physical",
    }
    assert _answers(call) == [("0", "no"), ("1", "yes"), ("2", "no"), ("4", "physical")]
    steps = CallEvent.objects.filter(call=call, kind=CallEvent.Kind.PROMPT)
    assert [e.step for e in steps] == ["0", "1", "2", "3", "4", "5", "6", "7"]
    assert CallEvent.objects.filter(call=call, kind=CallEvent.Kind.NOTE, step="7").exists()


def test_the_virtual_card_path_by_keypad(answered, call, txn):
    answered(respond(0), Digits="2")
    answered(respond(1), Digits="2")
    answered(respond(2), Digits="1")
    end = read(answered(respond(4), Digits="2"))
    assert end.hangup
    assert len(end.said) == 1 and "virtual card is ready in our mobile app now" in end.said[0]
    txn.refresh_from_db()
    assert txn.answers() == {
        "authorized": False,
        "shared_card_details": False,
        "other_suspicious": True,
        "card_delivery": "virtual",
    }
    assert [e.digits for e in CallEvent.objects.filter(kind=CallEvent.Kind.ANSWER)] == list("2212")


@pytest.mark.parametrize(
    ("speech", "digits", "delivery"),
    [("not physical", "", "virtual"), ("", "1", "physical"), ("digital one", "", "virtual")],
)
def test_step4_understands_the_card_choice(answered, txn, speech, digits, delivery):
    for step in (0, 1, 2):
        answered(respond(step), Digits="2")
    answered(respond(4), SpeechResult=speech, Digits=digits)
    txn.refresh_from_db()
    assert txn.card_delivery == delivery


def test_silence_is_asked_again_twice_then_goodbye(answered, call, txn, twilio):
    for _ in range(2):
        again = read(answered(respond(0)))  # actionOnEmptyResult: nothing said or pressed
        assert again.said[0] == script.REASK_SILENCE
        assert again.gather["action"].endswith(respond(0))
    end = read(answered(respond(0)))
    assert end.hangup
    assert "could not understand your answer" in end.text
    call.refresh_from_db()
    assert call.outcome == CallOutcome.UNCLEAR
    assert _status(txn) == Status.CONNECTING
    # The status callback then decides: Disconnected.
    twilio("/status/TXN001", CallStatus="completed", SequenceNumber="3", CallDuration="40")
    assert _status(txn) == Status.DISCONNECTED


def test_unclear_speech_is_never_taken_as_yes(answered, txn):
    again = read(answered(respond(0), SpeechResult="I don't know", Confidence="0.9"))
    assert again.said[0] == script.REASK_UNCLEAR
    assert _status(txn) == Status.CONNECTING
    assert txn.authorized is None


def test_a_doubtful_yes_is_asked_again(answered, txn):
    again = read(answered(respond(0), SpeechResult="yes", Confidence="0.2"))
    assert again.gather["action"].endswith(respond(0))
    assert _status(txn) == Status.CONNECTING


def test_retries_are_counted_per_step(answered, call, txn):
    answered(respond(0), SpeechResult="hmm")
    answered(respond(0), SpeechResult="what")
    answered(respond(0), SpeechResult="no")  # a clear answer on the last try
    answered(respond(1), SpeechResult="hmm")
    step1 = read(answered(respond(1), SpeechResult="hmm"))
    assert step1.gather["action"].endswith(respond(1))  # step 1 has its own two re-asks
    end = read(answered(respond(1), SpeechResult="hmm"))
    assert end.hangup
    assert "recorded that you did not make this payment" in end.text


def test_retries_exhausted_after_a_denial_keep_the_fraud(answered, call, txn, twilio):
    answered(respond(0), Digits="2")
    answered(respond(1), Digits="1")
    for _ in range(3):
        last = answered(respond(2), SpeechResult="yesterday")
    assert read(last).hangup
    call.refresh_from_db()
    assert call.outcome == CallOutcome.DENIED
    twilio("/status/TXN001", CallStatus="completed", SequenceNumber="3")
    assert _status(txn) == Status.FRAUD
    assert txn.other_suspicious is None


def test_a_hang_up_after_the_denial_keeps_mark_as_fraud(answered, call, txn, twilio):
    answered(respond(0), SpeechResult="I did not")
    # The customer hangs up during step 1: Twilio reports the call completed.
    twilio("/status/TXN001", CallStatus="completed", SequenceNumber="3", CallDuration="21")
    assert _status(txn) == Status.FRAUD
    call.refresh_from_db()
    assert call.outcome == CallOutcome.DENIED
    assert call.duration_seconds == 21


@pytest.mark.parametrize(
    ("step", "answer"), [(0, {"Digits": "9"}), (4, {"SpeechResult": "please stop calling me"})]
)
def test_the_customer_can_opt_out_at_any_question(answered, call, txn, step, answer):
    txn.__class__.objects.filter(pk=txn.pk).update(queue_state=QueueState.QUEUED)
    if step == 4:
        for s in (0, 1, 2):
            answered(respond(s), Digits="2")
    end = read(answered(respond(step), **answer))
    assert end.hangup
    assert "We will not call you again" in end.text
    txn.refresh_from_db()
    assert txn.opted_out_at is not None
    assert txn.queue_state == QueueState.NONE
    call.refresh_from_db()
    assert call.outcome == (CallOutcome.OPTED_OUT if step == 0 else CallOutcome.DENIED)


@pytest.mark.parametrize("answered_by", ["machine_start", "machine_end_beep", "fax"])
def test_a_machine_gets_a_voicemail_without_details(twilio, call, txn, answered_by):
    twiml = read(twilio(STEP0, AnsweredBy=answered_by))
    assert twiml.hangup and twiml.gather is None
    message = twiml.text
    assert "call us back" in message
    assert "T X N 0 0 1" in message
    for secret in ("Asha", "Croma", "rupees", "4 8 2 1", "March"):
        assert secret not in message
    assert _status(txn) == Status.NOT_ANSWERED
    call.refresh_from_db()
    assert call.outcome == CallOutcome.VOICEMAIL
    assert call.answered_by == answered_by
    # The completed callback that follows changes nothing more.
    twilio("/status/TXN001", CallStatus="completed", SequenceNumber="3", AnsweredBy=answered_by)
    assert _status(txn) == Status.NOT_ANSWERED


def test_a_person_answering_after_detection_is_asked_normally(twilio, call):
    twiml = read(twilio(STEP0, AnsweredBy="human"))
    assert twiml.gather is not None
    call.refresh_from_db()
    assert call.answered_by == "human"


def test_it_escapes_the_customers_name(make_transaction, place, twilio_post):
    txn = make_transaction(client_name='Asha <Rao> & "Sons"', merchant_name="A&B </Say><Hangup/>")
    call = place(txn)
    response = twilio_post(f"/voice/{txn.public_id}/step0", {"CallSid": call.call_sid})
    assert b"<Hangup/>" not in response.content
    twiml = read(response)  # well-formed XML
    assert 'Hello Asha <Rao> & "Sons".' in twiml.said[0]
    assert "at A&B </Say><Hangup/> on" in twiml.said[0]
    assert twiml.gather is not None and not twiml.hangup


def test_an_unknown_transaction_gets_a_polite_goodbye(twilio_post, db):
    response = twilio_post("/voice/NOPE/step0", {"CallSid": "CA" + "0" * 32})
    assert response.status_code == 200
    twiml = read(response)
    assert twiml.hangup
    assert twiml.said == [script.GOODBYE_UNKNOWN]
    response = twilio_post("/voice/NOPE/step0/response", {"CallSid": "CA" + "0" * 32})
    assert response.status_code == 200
    assert read(response).hangup


def test_an_unknown_step_gets_a_404_goodbye_and_changes_nothing(answered, txn, call):
    response = answered(respond(3), Digits="1")
    assert response.status_code == 404
    assert read(response).hangup
    assert _status(txn) == Status.CONNECTING
    assert not CallEvent.objects.filter(kind=CallEvent.Kind.ANSWER).exists()


def test_a_repeated_answer_does_not_count_twice(answered, call, txn):
    answered(respond(0), Digits="2")
    # Twilio retries the same request: we are at step 1 now, so step 1 is asked again.
    again = read(answered(respond(0), Digits="1"))
    assert again.gather["action"].endswith(respond(1))
    assert _status(txn) == Status.FRAUD
    assert txn.authorized is False
    assert _answers(call) == [("0", "no")]


def test_a_call_over_answers_nothing_more(answered, txn):
    answered(respond(0), Digits="1")
    late = read(answered(respond(0), Digits="2"))
    assert late.hangup and late.said == []
    assert _status(txn) == Status.RESOLVED


def test_every_answer_is_stored_on_the_call(answered, call):
    answered(respond(0), SpeechResult="No it wasn't me", Confidence="0.87")
    event = CallEvent.objects.get(call=call, kind=CallEvent.Kind.ANSWER)
    assert (event.step, event.speech_result, event.confidence, event.digits, event.intent) == (
        "0",
        "No it wasn't me",
        0.87,
        "",
        "no",
    )


def test_the_first_webhook_may_come_before_the_sid_is_stored(txn, twilio_post):
    # request_call has claimed the row and created the attempt; Twilio's answer is not back yet.
    attempt = txn.begin_call(trigger=CallTrigger.MANUAL)
    sid = "CA" + "1" * 32
    twiml = read(twilio_post(STEP0, {"CallSid": sid}))
    assert twiml.gather is not None
    attempt.refresh_from_db()
    assert attempt.call_sid == sid


@pytest.mark.parametrize("signature", ["", "forged", "a" * 28])
def test_it_rejects_a_missing_or_forged_signature_and_changes_nothing(
    twilio_post, call, txn, signature
):
    twilio_post(STEP0, {"CallSid": call.call_sid})
    response = twilio_post(
        respond(0), {"CallSid": call.call_sid, "Digits": "2"}, signature=signature
    )
    assert response.status_code == 403
    assert _status(txn) == Status.CONNECTING
    assert not CallEvent.objects.filter(kind=CallEvent.Kind.ANSWER).exists()


def test_it_rejects_get(client, call):
    assert client.get(STEP0).status_code == 405
    assert client.get(respond(0)).status_code == 405


@pytest.mark.parametrize(
    ("params", "code", "status"),
    [
        # Django itself refuses NUL characters in a form (400): nothing is recorded.
        ({"SpeechResult": "no\x00 way"}, 400, Status.CONNECTING),
        ({"Digits": "2\x00"}, 400, Status.CONNECTING),
        # A very long "no" with an unreadable confidence is still a "no".
        ({"SpeechResult": "no " * 2000, "Confidence": "NaN-ish"}, 200, Status.FRAUD),
        # A SID longer than any Twilio gives is an unknown call: told goodbye, nothing changed.
        ({"CallSid": "CA" + "9" * 200}, 200, Status.CONNECTING),
    ],
)
def test_odd_parameters_get_an_answer_never_a_500(answered, params, txn, code, status):
    response = answered(respond(0), **params)
    assert response.status_code == code
    if code == 200:
        read(response)
    assert _status(txn) == status


def test_an_oversized_call_sid_is_an_unknown_call(txn, twilio_post):
    attempt = txn.begin_call(trigger=CallTrigger.MANUAL)
    response = twilio_post(STEP0, {"CallSid": "CA" + "9" * 200})
    assert response.status_code == 200
    assert read(response).said == [script.GOODBYE_UNKNOWN]
    attempt.refresh_from_db()
    assert attempt.call_sid is None
