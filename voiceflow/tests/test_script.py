"""The call script: every prompt fills in, and the words promise what the flow does."""

import pytest

from voiceflow import script


def test_step0_names_everything_the_customer_needs(txn):
    words = script.prompt(0, txn)
    for part in (
        "Asha Rao",
        "Example Bank",
        "Croma Electronics",
        "two thousand three hundred and fifty rupees and ten paise",
        "15 March 2025",
        "card ending in 4 8 2 1",
        "press 1 for yes and 2 for no",
        "press 9",
    ):
        assert part in words


@pytest.mark.parametrize("step", range(9))
def test_every_step_has_words_that_fill_in(txn, step):
    words = script.prompt(step, txn)
    assert words and "{" not in words


@pytest.mark.parametrize("step", script.QUESTION_STEPS)
def test_every_question_has_hints_and_says_what_the_keys_mean(txn, step):
    assert script.HINTS[step]
    assert "press 1" in script.prompt(step, txn) and "2" in script.prompt(step, txn)


def test_the_card_question_says_which_key_is_which(txn):
    words = script.prompt(4, txn)
    assert "press 1 for a physical card and 2 for a virtual card" in words


def test_no_prompt_asks_for_a_pin_otp_or_full_card_number(txn):
    for step in range(9):
        words = script.prompt(step, txn).lower()
        assert "tell us your" not in words and "enter your" not in words


def test_the_voicemail_gives_no_transaction_details(make_transaction):
    txn = make_transaction(public_id="REF42", client_name="Ravi Kumar", merchant_name="Flipkart")
    words = script.say(script.VOICEMAIL, txn)
    assert "Example Bank" in words and "R E F 4 2" in words
    for detail in ("Ravi", "Flipkart", "rupees", "4 8 2 1", "2025"):
        assert detail not in words


def test_the_listening_settings():
    assert script.LANGUAGE == "en-IN"
    assert script.GATHER_TIMEOUT == 5
    assert script.MAX_REASKS == 2
    # Twilio needs a number (not "auto") once a speech model is named.
    assert script.SPEECH_TIMEOUT == 2


def test_a_name_with_braces_is_said_as_given(make_transaction):
    txn = make_transaction(client_name="{name} {0}")
    assert script.prompt(0, txn).startswith("Hello {name} {0}.")
