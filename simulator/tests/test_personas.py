"""The scripted customers and the rule that picks one by the called number."""

import pytest

from simulator.personas import PERSONAS, persona_for

CARD_QUESTION = "Would you like a physical card or a virtual card?"
YES_NO = "Did you make this payment? Please say yes or no."


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("+14155550100", "0"),
        ("+919876543211", "1"),
        ("+14155550102", "2"),
        ("+14155550103", "3"),
        ("+442071838754", "4"),
        ("+14155550105", "5"),
        ("+14155550106", "6"),
        ("+14155550107", "7"),
        ("+14155550108", "8"),
        ("+14155550109", "9"),
        ("+14155550000", "failed"),
        ("+14155551000", "0"),
    ],
)
def test_the_last_digit_picks_the_customer(number, key):
    assert persona_for(number).key == key


def test_every_kind_of_customer_the_demo_needs_is_there():
    pickups = {p.pickup for p in PERSONAS.values()}
    manners = {p.manner for p in PERSONAS.values() if p.pickup == "answer"}

    assert pickups == {"answer", "no-answer", "busy", "failed", "machine"}
    assert {"yes", "no", "silent", "mumble", "keypad-yes", "keypad-no"} <= manners


@pytest.mark.parametrize(
    ("key", "yes_no", "card"),
    [
        ("0", {"speech": "yes", "confidence": 0.94}, {"speech": "yes", "confidence": 0.94}),
        (
            "1",
            {"speech": "no", "confidence": 0.94},
            {"speech": "physical card please", "confidence": 0.92},
        ),
        (
            "2",
            {"speech": "no", "confidence": 0.94},
            {"speech": "virtual card please", "confidence": 0.92},
        ),
        ("8", {"digits": "1"}, {"digits": "1"}),
        ("9", {"digits": "2"}, {"digits": "2"}),
        ("6", None, None),
        ("5", None, None),
        ("3", None, None),
    ],
)
def test_each_customer_answers_the_questions_its_way(key, yes_no, card):
    persona = PERSONAS[key]

    assert persona.reply(YES_NO, {"hints": "yes, no"}) == yes_no
    assert persona.reply(CARD_QUESTION, {"hints": "physical, virtual"}) == card


def test_the_card_question_is_recognised_by_its_hints_too():
    reply = PERSONAS["2"].reply("Which would you like?", {"hints": "physical card, virtual card"})

    assert reply["speech"] == "virtual card please"


def test_mumbling_is_neither_yes_nor_no():
    reply = PERSONAS["7"].reply(YES_NO, {})

    words = set(reply["speech"].split())
    assert not words & {"yes", "no", "haan", "nahi", "physical", "virtual"}
    assert reply["confidence"] < 0.5
