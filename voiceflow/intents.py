"""What did the customer mean? One answer (speech or keypad) → one intent.

The rule that matters: anything uncertain is UNCLEAR (asked again), never
YES. An utterance with any negation in it can never be YES; one with both
yes and no in it is UNCLEAR.
"""

import re

from django.db import models

from . import script


class Intent(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    PHYSICAL = "physical", "Physical card"
    VIRTUAL = "virtual", "Virtual card"
    OPT_OUT = "opt-out", "Stop calling"
    UNCLEAR = "unclear", "Unclear"


_CONTRACTIONS = {
    "n't": " not",
    "'m": " am",
    "'s": " is",
    "'re": " are",
    "'ve": " have",
    "'ll": " will",
    "'d": " would",
}
_IRREGULAR = {"won't": "will not", "can't": "can not", "cannot": "can not", "ain't": "am not"}

# Words that deny or negate (English and Hinglish, with common transcriptions).
NEGATORS = {
    "no", "not", "nope", "nah", "nay", "never", "wrong", "incorrect",
    "nahi", "nahin", "nahee", "nai", "nehi", "mat", "galat",
    # Transcripts sometimes drop the apostrophe: "didnt", "wasnt".
    "didnt", "dont", "doesnt", "wasnt", "isnt", "havent", "hasnt", "cant", "wont",
}  # fmt: skip
# Single words that mean yes on their own.
YES_WORDS = {
    "yes", "yeah", "yep", "yup", "ya", "yaa", "yah", "yas", "yess", "correct", "confirm",
    "confirmed", "sure", "absolutely", "definitely", "indeed", "affirmative",
    "haan", "han", "haa", "haanji", "hanji", "sahi", "bilkul",
}  # fmt: skip
# Yes said as an interjection: a negation beside it does not turn it into no ("yes no" is
# unclear), unlike "correct" or "i did", which "not correct" and "i did not" negate.
INTERJECTIONS = {
    "yes", "yeah", "yep", "yup", "ya", "yaa", "yah", "yas", "yess",
    "haan", "han", "haa", "haanji", "hanji",
}  # fmt: skip
# The negations that reach the word beside them ("not correct", "sahi nahi"); a bare "no"
# does not ("no, I did it" is unclear).
_SCOPED_NEGATORS = NEGATORS - {"no", "nope", "nah", "nay", "wrong", "incorrect", "galat"}
# Phrases that mean yes ("i did" is negated by a following "not": "i did not").
YES_PHRASES = (
    "i did", "i have shared", "i made it", "that is right", "thats right",
    "i made the payment", "i made that payment",
    "it was me", "that was me", "this was me", "it is me", "that is me", "i authorised",
    "i authorized", "of course", "maine kiya", "maine ki", "kiya tha",
)  # fmt: skip
# "ji" is a courtesy: "ji haan" is yes, "ji nahi" is no, "ji" alone is yes.
SOFT_YES = {"ji", "jee"}
# Doubt, or a question back: always asked again, whatever else was said.
UNSURE_PHRASES = (
    "not sure", "do not know", "dont know", "no idea", "maybe", "may be", "perhaps",
    "i think", "not remember", "do not remember", "can not remember", "cant remember",
    "pata nahi", "pata nahin", "malum nahi", "maloom nahi", "no problem", "which payment",
    "what payment", "who is this", "who are you", "repeat", "say again", "pardon",
    "not certain", "probably", "might", "i guess", "kaun",
)  # fmt: skip
OPT_OUT_PHRASES = (
    "stop calling", "stop call", "stop these calls", "stop this call", "do not call",
    "dont call", "never call", "no more calls", "call mat karo", "phone mat karo",
    "unsubscribe", "remove my number", "take me off", "opt out", "leave me alone",
)  # fmt: skip
PHYSICAL_WORDS = {"physical", "plastic", "courier", "posted", "post", "delivered", "delivery"}
VIRTUAL_WORDS = {"virtual", "digital", "online", "app", "ecard", "e-card", "mobile"}
# An English negation reaches this many words ahead ("I do not want a physical card").
_NEGATION_REACH = 4


def _words(speech: str) -> list[str]:
    text = (speech or "").lower().replace("’", "'")
    for word, full in _IRREGULAR.items():
        text = text.replace(word, full)
    for short, full in _CONTRACTIONS.items():
        text = text.replace(short, full)
    return re.findall(r"[a-z]+(?:-[a-z]+)?", text)


def _has_phrase(words: list[str], phrases) -> bool:
    padded = " " + " ".join(words) + " "
    return any(f" {p} " in padded for p in phrases)


def _phrase_starts(words: list[str], phrase: str) -> list[int]:
    parts = phrase.split()
    n = len(parts)
    return [i for i in range(len(words) - n + 1) if words[i : i + n] == parts]


def _yes_no(words: list[str]) -> str:
    negated_somewhere = any(w in NEGATORS for w in words)
    positive = False
    for i, w in enumerate(words):
        if w in INTERJECTIONS or (w in YES_WORDS and not _negated(words, i, i + 1)):
            positive = True
    for phrase in YES_PHRASES:
        for start in _phrase_starts(words, phrase):
            if not _negated(words, start, start + len(phrase.split())):
                positive = True
    if any(w in SOFT_YES for w in words) and not negated_somewhere:
        positive = True
    if negated_somewhere and positive:
        return Intent.UNCLEAR
    if negated_somewhere:
        return Intent.NO
    if positive:
        return Intent.YES
    return Intent.UNCLEAR


def _negated(words: list[str], start: int, end: int) -> bool:
    """Is words[start:end] negated: "not correct", "correct nahi", "i did not"?"""
    before = words[start - 1] if start > 0 else ""
    after = words[end] if end < len(words) else ""
    return before in _SCOPED_NEGATORS or after in _SCOPED_NEGATORS


def _card_choice(words: list[str]) -> str:
    chosen, refused = set(), set()
    pending_negation = 0  # words left in reach of an English "not"/"never"
    for i, w in enumerate(words):
        kind = None
        if w in PHYSICAL_WORDS:
            kind = Intent.PHYSICAL
        elif w in VIRTUAL_WORDS:
            kind = Intent.VIRTUAL
        if kind is None:
            if w in {"not", "never", "without"}:
                pending_negation = _NEGATION_REACH
            elif pending_negation:
                pending_negation -= 1
            continue
        # Hindi puts the negation after the noun: "physical nahi".
        after = words[i + 1] if i + 1 < len(words) else ""
        if pending_negation or after in {"nahi", "nahin", "nai", "nehi", "mat"}:
            refused.add(kind)
            pending_negation = 0  # a "not" negates one choice only
        else:
            chosen.add(kind)
    if not chosen and not refused:
        return Intent.UNCLEAR
    # A bare "no" next to a choice ("no, physical") is ambiguous: ask again.
    if any(w in {"no", "nope", "nah"} for w in words):
        return Intent.UNCLEAR
    if len(chosen) == 1 and not (refused & chosen):
        return next(iter(chosen))
    if not chosen and len(refused) == 1:
        # "not physical" → virtual: there are only two kinds of card.
        return Intent.VIRTUAL if Intent.PHYSICAL in refused else Intent.PHYSICAL
    return Intent.UNCLEAR


def interpret(step: int, speech: str = "", digits: str = "", confidence=None) -> str:
    """The customer's answer at question `step` as an Intent.

    Keypad wins over speech when both arrive. `confidence` (Twilio's 0–1, if
    sent) only ever demotes a YES to UNCLEAR.
    """
    digits = (digits or "").strip()
    if digits:
        if digits == script.KEY_OPT_OUT:
            return Intent.OPT_OUT
        if step == script.CARD_STEP:
            return {script.KEY_PHYSICAL: Intent.PHYSICAL, script.KEY_VIRTUAL: Intent.VIRTUAL}.get(
                digits, Intent.UNCLEAR
            )
        return {script.KEY_YES: Intent.YES, script.KEY_NO: Intent.NO}.get(digits, Intent.UNCLEAR)

    words = _words(speech)
    if not words:
        return Intent.UNCLEAR
    if _has_phrase(words, OPT_OUT_PHRASES):
        return Intent.OPT_OUT
    if _has_phrase(words, UNSURE_PHRASES):
        return Intent.UNCLEAR
    if step == script.CARD_STEP:
        return _card_choice(words)
    if step not in script.YES_NO_STEPS:
        return Intent.UNCLEAR
    intent = _yes_no(words)
    if intent == Intent.YES and confidence is not None and confidence < script.MIN_YES_CONFIDENCE:
        return Intent.UNCLEAR
    return intent
