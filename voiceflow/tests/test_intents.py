"""The intent interpreter, against our utterance table: and never a yes that was not said."""

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceflow.intents import NEGATORS, YES_WORDS, Intent, interpret

TABLE = Path(__file__).parent / "data" / "utterances.csv"
with TABLE.open(newline="", encoding="utf-8") as f:
    ROWS = [
        pytest.param(int(r["step"]), r["speech"], r["digits"], r["expected"], id=f"{i}-{r['step']}")
        for i, r in enumerate(csv.DictReader(f), 2)
    ]


def test_the_table_is_big_enough_and_covers_every_intent():
    assert len(ROWS) >= 100
    assert {row.values[3] for row in ROWS} == set(Intent.values)


@pytest.mark.parametrize(("step", "speech", "digits", "expected"), ROWS)
def test_each_utterance_means_what_the_table_says(step, speech, digits, expected):
    assert interpret(step, speech, digits) == expected


@pytest.mark.parametrize(("step", "speech", "digits", "expected"), ROWS)
def test_no_utterance_that_is_not_a_yes_is_ever_yes(step, speech, digits, expected):
    if expected != Intent.YES:
        assert interpret(step, speech, digits) != Intent.YES
        # Not even when Twilio is sure of what it heard.
        assert interpret(step, speech, digits, confidence=1.0) != Intent.YES


OTHER_WORDS = ["i", "did", "it", "was", "me", "payment", "the", "card", "ji", "okay", "hello"]
WORDS = st.sampled_from([*sorted(YES_WORDS), *OTHER_WORDS])


@given(
    before=st.lists(WORDS, max_size=5),
    negator=st.sampled_from(sorted(NEGATORS)),
    after=st.lists(WORDS, max_size=5),
    step=st.sampled_from([0, 1, 2]),
)
def test_an_utterance_with_a_negation_is_never_yes(before, negator, after, step):
    speech = " ".join([*before, negator, *after])
    assert interpret(step, speech) != Intent.YES


@given(speech=st.text(max_size=40), step=st.sampled_from([0, 1, 2, 4]))
def test_any_text_gives_an_intent_and_never_fails(speech, step):
    assert interpret(step, speech) in Intent.values


@given(digits=st.text(alphabet="0123456789*#", min_size=1, max_size=4))
def test_only_the_key_1_is_yes(digits):
    assert (interpret(0, "", digits) == Intent.YES) == (digits == "1")


def test_a_yes_twilio_is_unsure_of_is_unclear():
    assert interpret(0, "yes", confidence=0.3) == Intent.UNCLEAR
    assert interpret(0, "yes", confidence=0.8) == Intent.YES
    assert interpret(0, "no", confidence=0.3) == Intent.NO


def test_keypad_wins_over_speech():
    assert interpret(0, "yes", "2") == Intent.NO
    assert interpret(4, "virtual", "1") == Intent.PHYSICAL


def test_a_statement_step_understands_nothing():
    assert interpret(3, "yes") == Intent.UNCLEAR
