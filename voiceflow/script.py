"""The call script: every word the customer hears, and how we listen for answers.

This is the one place to change what the call says. The steps follow the
original product's script (steps 0–8); voiceflow/flow.py decides which step
follows which, and the views only turn this into TwiML. Prompts are
str.format templates filled with the values from `details(txn)`.
"""

from .speech import amount_in_words, spell_digits, spoken_date

# How Twilio speaks and listens.
LANGUAGE = "en-IN"
VOICE = "Polly.Aditi"  # an Indian English voice; Twilio's default voices have no en-IN
GATHER_TIMEOUT = 5  # seconds of silence (after the prompt) before the answer counts as silence
SPEECH_TIMEOUT = 2  # seconds of quiet that end a spoken answer (a number: see SPEECH_MODEL)
SPEECH_MODEL = "experimental_utterances"  # short commands; supports en-IN
MAX_REASKS = 2  # re-asks per step for silence or an unclear answer, then goodbye
# A spoken "yes" Twilio is less sure of than this is asked again (Confidence 0–1).
MIN_YES_CONFIDENCE = 0.5

# Keypad: 1 and 2 answer every question (the prompt says what they mean); 9 opts out.
KEY_YES, KEY_NO = "1", "2"
KEY_PHYSICAL, KEY_VIRTUAL = "1", "2"
KEY_OPT_OUT = "9"

# The questions (the customer answers) and the statements (they only listen).
QUESTION_STEPS = (0, 1, 2, 4)
YES_NO_STEPS = (0, 1, 2)
CARD_STEP = 4

PROMPTS = {
    0: (
        "Hello {name}. This is the fraud prevention team at {bank}. "
        "We noticed a payment of {amount} at {merchant} on {date}, "
        "made with your card ending in {card}. "
        "Did you make this payment? Please say yes or no, "
        "or press 1 for yes and 2 for no. "
        "If you would rather we did not call you again, press 9."
    ),
    1: (
        "Thank you for telling us. We will help you secure your card. "
        "Have you recently shared your card details, PIN or a one-time password with anyone? "
        "Please say yes or no, or press 1 for yes and 2 for no."
    ),
    2: (
        "Have you noticed any other payments on your card that you do not recognise? "
        "Please say yes or no, or press 1 for yes and 2 for no."
    ),
    3: (
        "Thank you. To protect you, we will block this payment "
        "and issue you a new card. Your current card will stop working."
    ),
    4: (
        "Would you like a physical card delivered to you, "
        "or a virtual card you can use straight away in our mobile app? "
        "Please say physical or virtual, "
        "or press 1 for a physical card and 2 for a virtual card."
    ),
    5: "Your new physical card will reach you within three to five working days.",
    6: (
        "Meanwhile, a virtual card is ready for you in our mobile app, "
        "so you can keep paying safely."
    ),
    7: (
        "We have opened a fraud case for this payment, and our team will contact you "
        "if we need anything more. Thank you for your time, {name}. Goodbye."
    ),
    8: (
        "Your new virtual card is ready in our mobile app now. "
        "We have opened a fraud case for this payment, and our team will contact you "
        "if we need anything more. Thank you for your time, {name}. Goodbye."
    ),
}

# What Twilio's recogniser should expect at each question (hints, up to 500 phrases).
HINTS = {
    0: "yes, no, yes I did, no I did not, not me, haan, haan ji, nahi, ji nahi, stop calling",
    1: "yes, no, I did, I did not, haan, nahi, stop calling",
    2: "yes, no, haan, nahi, stop calling",
    4: "physical, virtual, physical card, virtual card, digital card, plastic card, stop calling",
}

REASK_SILENCE = "Sorry, we did not hear an answer."
REASK_UNCLEAR = "Sorry, we did not understand that."

GOODBYE_CONFIRMED = (
    "Thank you for confirming, {name}. No further action is needed "
    "and your card stays active. Goodbye."
)
# After too many unclear answers, before the customer told us anything.
GOODBYE_UNCLEAR = (
    "Sorry, we could not understand your answer. Please call {bank} on the number "
    "on the back of your card if you have any concerns. Goodbye."
)
# After too many unclear answers, once the customer has said the payment was not theirs.
GOODBYE_AFTER_DENIAL = (
    "We have recorded that you did not make this payment, and our fraud team "
    "will contact you shortly. Thank you, goodbye."
)
# An answer that contradicts the verdict an earlier call (or a supervisor) recorded:
# it is not applied; a person looks at the case.
GOODBYE_REVIEW = (
    "Thank you, {name}. Your answer differs from what we recorded earlier, "
    "so a member of our fraud team will review this payment and contact you. Goodbye."
)
GOODBYE_OPT_OUT = (
    "Understood. We will not call you again about this. If you have any concerns, "
    "please call {bank} on the number on the back of your card. Goodbye."
)
# Anyone may hear a voicemail: no amount, merchant, date or card, only a call-back request.
VOICEMAIL = (
    "Hello, this is a message from the fraud prevention team at {bank}. "
    "Please call us back on the number on the back of your card, "
    "quoting reference {reference}. Thank you."
)
# A call we cannot match to a transaction: say nothing about anyone's account.
GOODBYE_UNKNOWN = (
    "Sorry, we could not find the details of this call. "
    "Please call your bank on the number on the back of your card. Goodbye."
)


def details(txn) -> dict:
    """The values a prompt may use, already in spoken form."""
    return {
        "name": txn.client_name,
        "bank": txn.bank_name,
        "merchant": txn.merchant_name,
        "amount": amount_in_words(txn.amount, txn.currency),
        "date": spoken_date(txn.transaction_date),
        "card": spell_digits(txn.card_last4),
        "reference": spell_digits(txn.public_id),
    }


def prompt(step: int, txn) -> str:
    return PROMPTS[step].format(**details(txn))


def say(template: str, txn) -> str:
    return template.format(**details(txn))
