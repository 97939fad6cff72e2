"""A simulated call: what Twilio would know about it, and what the softphone shows."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The engine marks its call alive every few seconds (engine.HEARTBEAT_SECONDS) and waits at
# most 15 s on one webhook: a call silent this long lost its worker, and is ended for it.
LOST_AFTER = timedelta(seconds=60)


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def engine_alive(now) -> Q:
    """Calls an engine is still playing: a dead worker's calls stop counting at once."""
    return Q(engine_seen_at__gte=now - LOST_AFTER)


class SimCall(models.Model):
    class State(models.TextChoices):
        # Twilio's CallStatus values.
        QUEUED = "queued"
        INITIATED = "initiated"
        RINGING = "ringing"
        IN_PROGRESS = "in-progress"
        COMPLETED = "completed"
        BUSY = "busy"
        NO_ANSWER = "no-answer"
        FAILED = "failed"
        CANCELED = "canceled"

    ENDED = (State.COMPLETED, State.BUSY, State.NO_ANSWER, State.FAILED, State.CANCELED)

    sid = models.CharField(max_length=34, unique=True, default=new_call_sid)
    account_sid = models.CharField(max_length=34)
    to = models.CharField(max_length=32)
    from_number = models.CharField(max_length=32)
    url = models.URLField(max_length=2000)
    method = models.CharField(max_length=4, default="POST")
    status_callback = models.URLField(max_length=2000, blank=True)
    status_callback_method = models.CharField(max_length=4, default="POST")
    status_callback_events = models.JSONField(default=list)
    machine_detection = models.CharField(max_length=32, blank=True)
    async_amd = models.BooleanField(default=False)
    async_amd_status_callback = models.URLField(max_length=2000, blank=True)
    ring_timeout = models.PositiveIntegerField(default=60)

    state = models.CharField(max_length=12, choices=State, default=State.QUEUED)
    persona = models.CharField(max_length=16)
    # Replies given on the command line (simulate_call), used before the persona's.
    scripted_replies = models.JSONField(default=list)
    # Next SequenceNumber of a status callback.
    sequence = models.PositiveIntegerField(default=0)
    # [{"who": "bank"|"customer"|"call", "text": ...}], appended by the engine only.
    transcript = models.JSONField(default=list)
    answered_by = models.CharField(max_length=32, blank=True)

    # Set once by whichever process runs the call, so it is never played twice.
    engine_started_at = models.DateTimeField(null=True, blank=True)
    # The engine's last sign of life while it plays the call (not updated_at: Twilio's
    # date_updated does not move with it).
    engine_seen_at = models.DateTimeField(null=True, blank=True)

    # Softphone: who picked up, what the call waits for, and the person's reply.
    softphone_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ringing_on_softphone = models.BooleanField(default=False)
    awaiting = models.JSONField(null=True, blank=True)
    person_speaking = models.BooleanField(default=False)
    reply = models.JSONField(null=True, blank=True)
    hangup_requested = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    start_time = models.DateTimeField(null=True, blank=True)
    # When the customer (or a machine) picked up: CallDuration counts from here.
    answered_at = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The REST list: To and StartTime>, newest first.
            models.Index(fields=["to", "-created_at"], name="simcall_to_idx"),
        ]

    def __str__(self):
        return self.sid

    @property
    def ended(self) -> bool:
        return self.state in self.ENDED

    def seconds_answered(self, end) -> int:
        """Twilio's CallDuration: wall-clock seconds from answer to `end`, 0 if never answered.

        Wall clock, not the engine's notional call time: a scripted customer's waits are
        time-scaled, and the duration must agree with the timestamps the app shows.
        """
        if self.answered_at is None:
            return 0
        return max(0, round((end - self.answered_at).total_seconds()))

    def _update_if(self, condition: Q, **values) -> bool:
        """Compare-and-set, as the ledger does: the engine and the softphone race here."""
        changed = SimCall.objects.filter(Q(pk=self.pk) & condition).update(
            updated_at=timezone.now(), **values
        )
        if changed:
            self.refresh_from_db()
        return bool(changed)

    def claim_for_engine(self) -> bool:
        now = timezone.now()
        return self._update_if(
            Q(engine_started_at__isnull=True) & ~Q(state__in=self.ENDED),
            engine_started_at=now,
            engine_seen_at=now,
        )

    def beat(self) -> bool:
        """The engine is alive and playing; False when the call was ended without it."""
        alive = SimCall.objects.filter(pk=self.pk).exclude(state__in=self.ENDED)
        return bool(alive.update(engine_seen_at=timezone.now()))

    def end_if_lost(self, now) -> bool:
        """End the call as Twilio would if its engine fell silent (its worker died).

        It ends where it got to: an answered call completes, a ringing one was not
        answered, one that never rang failed; at the engine's last sign of life. Only
        while that sign is unchanged, so an engine that beats meanwhile keeps its call.
        """
        self.refresh_from_db()
        seen = self.engine_seen_at or self.created_at
        if self.ended or seen > now - LOST_AFTER:
            return False
        final = {
            self.State.IN_PROGRESS: self.State.COMPLETED,
            self.State.RINGING: self.State.NO_ANSWER,
        }.get(self.state, self.State.FAILED)
        completed = final == self.State.COMPLETED
        return self._update_if(
            Q(state=self.state, engine_seen_at=self.engine_seen_at),
            state=final,
            end_time=seen,
            duration=self.seconds_answered(seen) if completed else 0,
            ringing_on_softphone=False,
            awaiting=None,
            reply=None,
            person_speaking=False,
        )

    def pick_up(self, user) -> bool:
        """A person answers on the softphone: only while it rings there, and only one person."""
        return self._update_if(
            Q(ringing_on_softphone=True, softphone_user__isnull=True)
            & engine_alive(timezone.now()),
            softphone_user=user,
        )

    def give_reply(self, user, reply: dict) -> bool:
        """The person's answer to the question the call is waiting on; one per question."""
        return self._update_if(
            Q(softphone_user=user, awaiting__isnull=False, reply__isnull=True), reply=reply
        )

    def start_speaking(self, user) -> bool:
        return self._update_if(Q(softphone_user=user, awaiting__isnull=False), person_speaking=True)

    def hang_up(self, user) -> bool:
        return self._update_if(
            Q(softphone_user=user) & ~Q(state__in=self.ENDED), hangup_requested=True
        )

    def say(self, who: str, text: str):
        """Append a line to the transcript (the engine is its only writer)."""
        self.transcript = [*self.transcript, {"who": who, "text": text}]
        SimCall.objects.filter(pk=self.pk).update(
            transcript=self.transcript, updated_at=timezone.now()
        )


class ReceivedEvent(models.Model):
    """An outcome event the simulator's built-in receiver accepted: its signature checked out."""

    msg_id = models.CharField("webhook-id", max_length=64)
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    # The webhook-timestamp the sender signed, and when it arrived here.
    signed_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.msg_id}"
