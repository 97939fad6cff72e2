"""The task that delivers outcome events (transactions/events.py).

On its own queue, "events", run by its own worker (`make run` starts one), so
a slow or dead endpoint never holds up call placement or the periodic tick.
"""

import logging

from django.tasks import task

from . import events

logger = logging.getLogger(__name__)

QUEUE = "events"


@task(queue_name=QUEUE)
def deliver_event(pk: int) -> str:
    outcome = events.deliver(pk)
    logger.info("Outcome event delivery %s: %s", pk, outcome)
    return outcome
