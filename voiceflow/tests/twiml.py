"""Reading our TwiML answers in tests."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass
class Twiml:
    said: list[str]  # every <Say>, in order, including the question inside <Gather>
    gather: dict | None  # the <Gather>'s attributes
    hangup: bool

    @property
    def text(self) -> str:
        return " ".join(self.said)


def read(response) -> Twiml:
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314  (our own response, in a test)
    assert root.tag == "Response"
    gather = root.find("Gather")
    return Twiml(
        said=[el.text or "" for el in root.iter("Say")],
        gather=dict(gather.attrib) if gather is not None else None,
        hangup=root.find("Hangup") is not None,
    )
