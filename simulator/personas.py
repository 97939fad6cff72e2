"""Scripted customers: who answers a simulated call when no person picks up on the softphone.

The rule, by the called number (also in the README):

    ends in 0000  the line fails (CallStatus failed)
    last digit 0  answers and confirms by voice ("yes")
               1  denies by voice, wants a physical card
               2  denies by voice, wants a virtual card
               3  never answers (no-answer)
               4  busy
               5  voicemail (AnsweredBy machine_end_beep)
               6  answers and says nothing
               7  answers and mumbles (never a clear yes or no)
               8  confirms on the keypad (1)
               9  denies on the keypad (2) and wants a virtual card (2)
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    key: str
    label: str
    # What happens to the call: "answer", "no-answer", "busy", "failed" or "machine".
    pickup: str = "answer"
    # How it replies: "yes", "no", "silent", "mumble" (voice) or "keypad-yes", "keypad-no".
    manner: str = "silent"
    card: str = ""

    def reply(self, prompt: str, gather: dict) -> dict | None:
        """The answer to a <Gather>, as {"speech": ...} or {"digits": ...}; None for silence."""
        if self.pickup != "answer" or self.manner == "silent":
            return None
        if self.manner == "mumble":
            return {"speech": "hmm sorry the line is breaking up", "confidence": 0.31}
        asks_card = _asks_card_choice(prompt, gather)
        if self.manner == "keypad-yes":
            return {"digits": "1"}
        if self.manner == "keypad-no":
            return {"digits": "2" if self.card == "virtual" or not asks_card else "1"}
        if asks_card and self.card:
            return {"speech": f"{self.card} card please", "confidence": 0.92}
        return {"speech": self.manner, "confidence": 0.94}


def _asks_card_choice(prompt: str, gather: dict) -> bool:
    words = f"{prompt} {gather.get('hints', '')}".lower()
    return "physical" in words and "virtual" in words


PERSONAS = {
    "0": Persona("0", "Confirms by voice", manner="yes"),
    "1": Persona("1", "Denies, physical card", manner="no", card="physical"),
    "2": Persona("2", "Denies, virtual card", manner="no", card="virtual"),
    "3": Persona("3", "Never answers", pickup="no-answer"),
    "4": Persona("4", "Busy", pickup="busy"),
    "5": Persona("5", "Voicemail", pickup="machine"),
    "6": Persona("6", "Answers, stays silent", manner="silent"),
    "7": Persona("7", "Answers, mumbles", manner="mumble"),
    "8": Persona("8", "Confirms on the keypad", manner="keypad-yes"),
    "9": Persona("9", "Denies on the keypad, virtual card", manner="keypad-no", card="virtual"),
    "failed": Persona("failed", "The line fails", pickup="failed"),
    # simulate_call --say/--press: answers, replies as told, then silence.
    "scripted": Persona("scripted", "Replies given on the command line"),
}


def persona_for(number: str) -> Persona:
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.endswith("0000"):
        return PERSONAS["failed"]
    return PERSONAS[digits[-1:] or "6"]
