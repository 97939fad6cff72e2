"""The ledger: transactions, the calls placed about them, what was said, and who changed what.

Nothing here knows of HTTP, pages or Twilio. Every change of state is a
conditional UPDATE (compare-and-set on the current status), so two clicks,
two workers or a late callback can never lose or double a change.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from . import indexed
from .cards import mask
from .phones import normalise_phone


class Status(models.TextChoices):
    # Labels are the seed's, kept so the JSON API and old exports stay compatible.
    PENDING = "Pending", "Pending"
    CONNECTING = "Connecting", "Connecting"
    RESOLVED = "Resolved", "Resolved"
    FRAUD = "Mark As Fraud", "Fraud"  # the stored and API value stays the seed's
    NOT_ANSWERED = "Not Answered", "Not Answered"
    DISCONNECTED = "Disconnected", "Disconnected"


# A verdict (the customer's answer, or a supervisor's): call progress never overwrites it.
FINAL_STATUSES = (Status.RESOLVED, Status.FRAUD)
# Statuses a call's progress may move (Connecting ends in Not Answered or Disconnected).
OPEN_STATUSES = (Status.PENDING, Status.CONNECTING, Status.NOT_ANSWERED, Status.DISCONNECTED)
# Automatic calls go only to rows in these statuses; an analyst may also call a fraud row.
AUTO_CALLABLE_STATUSES = (Status.PENDING, Status.NOT_ANSWERED, Status.DISCONNECTED)
CALLABLE_STATUSES = (*AUTO_CALLABLE_STATUSES, Status.FRAUD)


# Invariants the database holds too (Transaction.Meta.constraints), so no path
# (loaddata, admin, the importer, raw SQL) can store a row that breaks them.
# ASCII only: Python's \d also matches fullwidth and other scripts' digits.
PUBLIC_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
CARD_LAST4_PATTERN = r"^[0-9]{4}$"
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class CallRefused(Exception):
    """The row may not be called now (a call is on the line, it is resolved, no phone...)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Verdict(models.TextChoices):
    """What a customer's answer did to the row (Transaction.record_answer)."""

    APPLIED = "applied"  # the row had no verdict: it has this one now
    AGREED = "agreed"  # the row already had this verdict
    CONTRADICTED = "contradicted"  # the row has the opposite verdict: flagged for review


class CardDelivery(models.TextChoices):
    PHYSICAL = "physical", "Physical card"
    VIRTUAL = "virtual", "Virtual card"


class CallTrigger(models.TextChoices):
    MANUAL = "manual", "Analyst's click"
    BULK = "bulk", "Bulk call"
    RETRY = "retry", "Automatic retry"


class QueueState(models.TextChoices):
    """Where an automatic call stands before it is placed."""

    NONE = "", "—"
    QUEUED = "queued", "Queued"
    SCHEDULED = "scheduled", "Scheduled"
    CALLING = "calling", "Calling"


def _utc(when) -> str | None:
    """ISO 8601 in UTC with a Z, as the bank's systems read it (and DRF writes it)."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else None


class TransactionQuerySet(models.QuerySet):
    def changed_since(self, when):
        return self.filter(updated_at__gt=when)

    def with_call_info(self):
        """Annotate what a row shows of its calls, in the same query (dashboard and API alike).

        on_call: an attempt has not ended yet. last_error_code / last_error_message:
        why the latest call failed ("" when it did not). Each is found at the top
        of an index (one_live_call_per_transaction, call_txn_idx), so a row called
        a hundred times costs what a row called once does.
        """
        calls = CallAttempt.objects.filter(transaction=OuterRef("pk"))
        latest = calls.order_by("-created_at", "-id")[:1]
        return self.annotate(
            on_call=Exists(calls.filter(ended_at__isnull=True)),
            last_error_code=Subquery(latest.values("error_code")),
            last_error_message=Subquery(latest.values("error_message")),
        )

    def search(self, q: str):
        """What the search box and the API's `q` match: id, name, phone, merchant, bank.

        Indexed on both databases; the exact rules are in transactions/indexed.py.
        """
        q = (q or "").strip()
        if not q:
            return self
        return self.filter(indexed.search_filter(q, self.db))

    def count(self) -> int:
        # The dashboard's paginator counts every page view: from the tally
        # when the rows are the whole table or one status, else COUNT(*).
        tallied = indexed.tallied_count(self)
        return super().count() if tallied is None else tallied

    def update_in_order(self, **values) -> int:
        """`update()` for many rows at once that cannot deadlock with another one.

        PostgreSQL locks the rows of a bulk UPDATE in scan order, so two
        overlapping ones can each hold a row the other waits for. Locking in
        primary-key order first makes the second wait for the first instead.
        """
        with transaction.atomic(using=self.db):
            if not connections[self.db].features.has_select_for_update:
                return self.update(**values)  # SQLite: one writer at a time already
            pks = list(self.select_for_update().order_by("pk").values_list("pk", flat=True))
            return self.model._base_manager.using(self.db).filter(pk__in=pks).update(**values)

    def status_counts(self) -> dict[str, int]:
        """{status label: rows}, every status present (zero when none)."""
        counts = dict.fromkeys(Status.values, 0)
        if not self.query.where and not self.query.is_sliced:
            # The whole table: read the trigger-kept tally instead of scanning.
            counts.update(indexed.status_tally(self.db))
            return counts
        for row in self.order_by().values("status").annotate(n=models.Count("id")):
            counts[row["status"]] = row["n"]
        return counts


class Transaction(models.Model):
    public_id = models.CharField(
        "ID",
        max_length=32,
        unique=True,
        validators=[RegexValidator(PUBLIC_ID_PATTERN, "Use letters, digits, - and _ only.")],
        help_text="The bank's reference, e.g. TXN001. Used in every URL.",
    )
    client_name = models.CharField(max_length=200)
    card_last4 = models.CharField(
        "card (last four digits)",
        max_length=4,
        validators=[RegexValidator(CARD_LAST4_PATTERN, "Four digits (0–9).")],
    )
    phone = models.CharField(max_length=20, help_text="E.164, e.g. +919876543210")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="INR")
    bank_name = models.CharField(max_length=200)
    merchant_name = models.CharField(max_length=200)
    transaction_date = models.DateField()
    # The bank's own case id, sent with alerts through the API and echoed in its events.
    external_ref = models.CharField("bank's case id", max_length=100, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)

    # The customer's answers, filled as the call goes (None: not asked yet).
    authorized = models.BooleanField(null=True, blank=True)
    shared_card_details = models.BooleanField(null=True, blank=True)
    other_suspicious = models.BooleanField(null=True, blank=True)
    card_delivery = models.CharField(max_length=8, choices=CardDelivery, blank=True)

    # A later call's answer contradicted the verdict: a supervisor decides (set_status_by).
    needs_review = models.BooleanField(
        default=False,
        help_text="A later call's answer contradicted the verdict. Setting the status clears it.",
    )

    # Automatic calling: opt-out, and the pending call: its state, why, and when it is due.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    queue_state = models.CharField(max_length=10, choices=QueueState, blank=True, default="")
    queue_trigger = models.CharField(
        "queued as", max_length=8, choices=CallTrigger, blank=True, default=""
    )
    # A retry's place in its series: "Retry {number} of {total}".
    queue_call_number = models.PositiveSmallIntegerField(null=True, blank=True)
    queue_call_total = models.PositiveSmallIntegerField(null=True, blank=True)
    next_call_at = models.DateTimeField("due at", null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by every change, including conditional .update()s (which bypass
    # auto_now): the dashboard's poll asks for rows changed since its token.
    updated_at = models.DateTimeField(auto_now=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-transaction_date", "-id"]
        permissions = [
            ("place_call", "Can place a verification call"),
            ("edit_phone", "Can edit a customer's phone number"),
            ("set_status", "Can set a transaction's status by hand"),
            ("export_transactions", "Can export transactions"),
        ]
        indexes = [
            # Reports: the alerts that arrived on a day.
            models.Index(fields=["created_at"], name="txn_created_idx"),
            # Dashboard: default order, and the status filter in that order.
            models.Index(fields=["-transaction_date", "-id"], name="txn_date_idx"),
            models.Index(fields=["status", "-transaction_date", "-id"], name="txn_status_date_idx"),
            # Dashboard poll: rows changed since the last token.
            models.Index(fields=["updated_at"], name="txn_updated_idx"),
            models.Index(fields=["phone"], name="txn_phone_idx"),
            # Dashboard: the "needs review" filter, in the default order.
            models.Index(
                fields=["-transaction_date", "-id"],
                name="txn_review_idx",
                condition=Q(needs_review=True),
            ),
            # Worker: due automatic calls.
            models.Index(
                fields=["next_call_at"],
                name="txn_due_call_idx",
                condition=~Q(queue_state=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="txn_status_known"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="txn_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(public_id__regex=PUBLIC_ID_PATTERN), name="txn_public_id_pattern"
            ),
            models.CheckConstraint(
                condition=Q(card_last4__regex=CARD_LAST4_PATTERN), name="txn_card_last4_digits"
            ),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=E164_PATTERN), name="txn_phone_e164"
            ),
        ]

    def __str__(self):
        return f"{self.public_id} {self.client_name}"

    @property
    def masked_card(self) -> str:
        return mask(self.card_last4)

    def clean(self):
        if self.phone:
            try:
                self.phone = normalise_phone(self.phone)
            except ValidationError as e:
                raise ValidationError({"phone": e.messages}) from None

    def answers(self) -> dict:
        return {
            "authorized": self.authorized,
            "shared_card_details": self.shared_card_details,
            "other_suspicious": self.other_suspicious,
            "card_delivery": self.card_delivery or None,
        }

    def as_alert(self, *, with_calls: bool = True) -> dict:
        """The case as the bank sees it: the alerts API's answer and every event's data.

        One shape for both (documented by the API's AlertSerializer). Never more of the
        card than its last four. Times in UTC. Reads `calls` once: prefetch them for many.
        """
        calls = sorted(self.calls.all(), key=lambda c: (c.created_at, c.pk)) if with_calls else []
        return {
            "id": self.public_id,
            "external_ref": self.external_ref,
            "status": self.status,
            "needs_review": self.needs_review,
            "answers": self.answers(),
            "client_name": self.client_name,
            "client_phone": self.phone,
            "card_last4": self.card_last4,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "bank_name": self.bank_name,
            "merchant_name": self.merchant_name,
            "transaction_date": self.transaction_date.isoformat(),
            "created_at": _utc(self.created_at),
            "updated_at": _utc(self.updated_at),
            "attempts": [
                {
                    "started_at": _utc(call.created_at),
                    "answered_at": _utc(call.answered_at),
                    "ended_at": _utc(call.ended_at),
                    "outcome": call.outcome,
                    "answered_by": call.answered_by,
                    "trigger": call.trigger,
                    "duration_seconds": call.duration_seconds,
                }
                for call in calls
            ],
        }

    @property
    def queue_label(self) -> str:
        """What the row waits for: "Queued", "Scheduled", "Calling" or "Retry 2 of 3"."""
        if not self.queue_state:
            return ""
        if self.queue_trigger == CallTrigger.RETRY and self.queue_state != QueueState.CALLING:
            if self.queue_call_number and self.queue_call_total:
                return f"Retry {self.queue_call_number} of {self.queue_call_total}"
            return "Retry"
        return QueueState(self.queue_state).label

    # --- state changes. These methods are the only writers of `status`: each is one
    # conditional UPDATE, so two clicks, two workers or a late callback cannot undo
    # a verdict.

    def _update_if(self, condition: Q, **values) -> bool:
        """Compare-and-set: write `values` only while `condition` holds in the database."""
        changed = Transaction.objects.filter(Q(pk=self.pk) & condition).update(
            updated_at=timezone.now(), **values
        )
        if changed:
            self.refresh_from_db()
        return bool(changed)

    def begin_call(self, *, trigger: str, user=None) -> "CallAttempt":
        """Record a new call attempt about the row, or raise CallRefused saying why not.

        One live call per transaction: an attempt that has not ended refuses
        every other way of calling (the constraint one_live_call_per_transaction
        holds it in the database too). A row without a verdict shows Connecting;
        a fraud row keeps its status while it is called again.
        """
        automatic = trigger != CallTrigger.MANUAL
        with transaction.atomic():
            row = Transaction.objects.select_for_update().get(pk=self.pk)
            if not row.phone:
                raise CallRefused(f"{row.public_id} has no phone number to call.")
            if row.calls.filter(ended_at__isnull=True).exists():
                raise CallRefused(f"A call to {row.public_id} is already under way.")
            if row.status == Status.RESOLVED:
                raise CallRefused(f"{row.public_id} is resolved; it is not called again.")
            if automatic and row.opted_out_at:
                raise CallRefused(f"{row.client_name} asked not to be called automatically.")
            if automatic and row.status not in AUTO_CALLABLE_STATUSES:
                status = row.get_status_display()
                raise CallRefused(f"{row.public_id} is {status}; it is not called automatically.")
            values = {}
            if row.status in AUTO_CALLABLE_STATUSES:
                values["status"] = Status.CONNECTING
            if not automatic:
                # An analyst's call replaces whatever automatic call was planned.
                values.update(QUEUE_CLEARED)
            if values and not row._update_if(Q(status=row.status), **values):
                raise CallRefused(f"{row.public_id} changed meanwhile; try again.")
            try:
                with transaction.atomic():
                    attempt = CallAttempt.objects.create(
                        transaction=row, trigger=trigger, placed_by=user
                    )
            except IntegrityError:  # another process's live call won the race
                raise CallRefused(f"A call to {row.public_id} is already under way.") from None
        self.refresh_from_db()
        return attempt

    def record_answer(self, authorized: bool) -> str:
        """The customer's answer to "did you make this payment?"; returns a Verdict.

        A row without a verdict takes it. A row with the same verdict keeps it.
        A row with the opposite verdict keeps it too and is flagged for review:
        nothing ever turns fraud into resolved (or back) automatically.
        """
        verdict = Status.RESOLVED if authorized else Status.FRAUD
        values = {"status": verdict, "authorized": authorized, **QUEUE_CLEARED}
        opposite = Q(status__in=FINAL_STATUSES) & ~Q(status=verdict)
        # Each change and its event in one database transaction (the outbox).
        with transaction.atomic():
            if self._update_if(Q(status__in=OPEN_STATUSES), **values):
                self._record_event(VERDICT_EVENTS[verdict])
                return Verdict.APPLIED
            if self._update_if(opposite & Q(needs_review=False), needs_review=True):
                self._record_event(EventType.NEEDS_REVIEW)
                return Verdict.CONTRADICTED
        # Flagged already by an earlier contradiction: one event per flag.
        if Transaction.objects.filter(Q(pk=self.pk) & opposite).exists():
            return Verdict.CONTRADICTED
        return Verdict.AGREED

    def record_details(self, **answers) -> bool:
        """The fraud questions' answers (card details shared, ...): stored on a fraud row only."""
        return self._update_if(Q(status=Status.FRAUD), **answers)

    def record_call_end(self, attempt: "CallAttempt", status: str) -> bool:
        """A call ended without a verdict: Connecting becomes `status` (Not Answered...).

        Only while the row still waits on this very call: a verdict, a manual
        status or a newer call is never overwritten by an old call's news.
        """
        newer = CallAttempt.objects.filter(transaction_id=self.pk, pk__gt=attempt.pk)
        return self._update_if(Q(status=Status.CONNECTING) & ~Exists(newer), status=status)

    def opt_out(self) -> bool:
        """The customer asked not to be called again: no more automatic calls."""
        with transaction.atomic():
            self._update_if(Q(queue_state__gt=""), **QUEUE_CLEARED)
            if not self._update_if(Q(opted_out_at__isnull=True), opted_out_at=timezone.now()):
                return False
            self._record_event(EventType.OPTED_OUT)
        return True

    def record_unreachable(self, attempt: "CallAttempt") -> bool:
        """The last automatic call of a series ended unanswered: one event per such call.

        voiceflow/autocall.py decides that no retry follows; the row's lock makes
        a repeated or racing report of the same call find the event there.
        """
        with transaction.atomic():
            row = Transaction.objects.select_for_update().get(pk=self.pk)
            reported = row.outcome_events.filter(
                type=EventType.UNREACHABLE, created_at__gte=attempt.created_at
            )
            if reported.exists():
                return False
            row._record_event(EventType.UNREACHABLE)
        return True

    def _record_event(self, event_type: str) -> "OutcomeEvent":
        # Lazy: the delivery side (transactions/events.py) imports this module.
        from .events import record_event

        return record_event(self, event_type)

    def set_status_by(self, user, new_status: str, source: str = "dashboard") -> bool:
        """A supervisor's manual status, audited. Clears needs-review and planned calls.

        Setting the status a row flagged for review already has confirms it.
        """
        if new_status not in MANUAL_STATUSES:
            raise ValidationError(
                f"Unknown status “{new_status}”. Use one of: {', '.join(MANUAL_STATUSES)}."
            )
        with transaction.atomic():
            row = Transaction.objects.select_for_update().get(pk=self.pk)
            old_status, flagged = row.status, row.needs_review
            if old_status == new_status and not flagged:
                return False
            values = {"status": new_status, "needs_review": False, **QUEUE_CLEARED}
            if not row._update_if(Q(status=old_status, needs_review=flagged), **values):
                return False
            if new_status in FINAL_STATUSES:
                # A supervisor's verdict (or a review that keeps one) is the bank's news too.
                row._record_event(VERDICT_EVENTS[new_status])
            entries = [("status", old_status, new_status)]
            if flagged:
                entries.append(("needs_review", "yes", "no"))
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    transaction=row,
                    user=user,
                    field=field,
                    old_value=old,
                    new_value=new,
                    source=source,
                )
                for field, old, new in entries
                if old != new
            )
        self.refresh_from_db()
        return True

    def edit_by(self, user, changes: dict, source: str = "admin") -> list[str]:
        """A person's corrections of the row's data (name, card, amount...), each audited.

        Status and phone have their own methods; returns the fields that changed.
        """
        with transaction.atomic():
            row = Transaction.objects.select_for_update().get(pk=self.pk)
            changed = {f: v for f, v in changes.items() if getattr(row, f) != v}
            if not changed:
                return []
            Transaction.objects.filter(pk=self.pk).update(**changed, updated_at=timezone.now())
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    transaction=row,
                    user=user,
                    field=field,
                    old_value=str(getattr(row, field))[:200],
                    new_value=str(value)[:200],
                    source=source,
                )
                for field, value in changed.items()
            )
        self.refresh_from_db()
        return list(changed)

    def amend_alert(self, changes: dict, *, api_key: "ApiKey") -> list[str] | None:
        """The bank's corrected alert (name, card, phone, amount...), each change audited.

        Only while the case is Pending and nobody has called about it: returns
        None then, and changes nothing. Returns the fields that changed.
        """
        with transaction.atomic():
            row = Transaction.objects.select_for_update().get(pk=self.pk)
            untouched = Q(status=Status.PENDING) & ~Exists(
                CallAttempt.objects.filter(transaction=OuterRef("pk"))
            )
            if not Transaction.objects.filter(Q(pk=self.pk) & untouched).exists():
                return None
            changed = {f: v for f, v in changes.items() if getattr(row, f) != v}
            if not changed:
                return []
            old = {field: getattr(row, field) for field in changed}
            values = dict(changed)
            if "phone" in changed:
                values.update(row._requeue_for_new_phone())
            row._update_if(untouched, **values)
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    transaction=row,
                    api_key=api_key,
                    field=field,
                    old_value=str(old[field])[:200],
                    new_value=str(value)[:200],
                    source="api",
                )
                for field, value in changed.items()
            )
        self.refresh_from_db()
        return list(changed)

    def _requeue_for_new_phone(self) -> dict:
        """A bulk call waiting for the old number's calling hours is due now instead.

        The dispatcher then calls it or schedules it for the new number's hours.
        """
        if self.queue_trigger == CallTrigger.BULK and self.queue_state in (
            QueueState.QUEUED,
            QueueState.SCHEDULED,
        ):
            return {"queue_state": QueueState.QUEUED, "next_call_at": timezone.now()}
        return {}

    def set_phone_by(self, user, raw_phone: str, source: str = "dashboard") -> bool:
        """Validate, normalise and store a new phone number, audited.

        Raises ValidationError (and changes nothing) for a bad number.
        """
        new_phone = normalise_phone(raw_phone)
        with transaction.atomic():
            row = Transaction.objects.select_for_update().get(pk=self.pk)
            old = row.phone
            if old == new_phone:
                self.phone = new_phone
                return False
            values = {"phone": new_phone, **row._requeue_for_new_phone()}
            Transaction.objects.filter(pk=self.pk).update(**values, updated_at=timezone.now())
            AuditEntry.objects.create(
                transaction=row,
                user=user,
                field="phone",
                old_value=old,
                new_value=new_phone,
                source=source,
            )
        self.refresh_from_db()
        return True

    def touch(self):
        """Mark the row changed (for the dashboard's poll) without changing data."""
        Transaction.objects.filter(pk=self.pk).update(updated_at=timezone.now())


# The queue columns of a row with no automatic call planned.
QUEUE_CLEARED = {
    "queue_state": QueueState.NONE,
    "queue_trigger": "",
    "queue_call_number": None,
    "queue_call_total": None,
    "next_call_at": None,
}
# A manual status may be anything but Connecting: only placing a call sets that.
MANUAL_STATUSES = [s for s in Status.values if s != Status.CONNECTING]


class EventType(models.TextChoices):
    """What the bank hears of a case (outcome events, sent to webhook endpoints)."""

    RESOLVED = "alert.resolved", "alert.resolved: the payment is confirmed"
    FRAUD_CONFIRMED = "alert.fraud_confirmed", "alert.fraud_confirmed: marked as fraud"
    UNREACHABLE = "alert.unreachable", "alert.unreachable: automatic calls went unanswered"
    OPTED_OUT = "alert.opted_out", "alert.opted_out: the customer asked not to be called"
    NEEDS_REVIEW = "alert.needs_review", "alert.needs_review: a later answer contradicts"


VERDICT_EVENTS = {Status.RESOLVED: EventType.RESOLVED, Status.FRAUD: EventType.FRAUD_CONFIRMED}


class CallOutcome(models.TextChoices):
    NONE = "", "—"
    CONFIRMED = "confirmed", "Customer confirmed"
    DENIED = "denied", "Customer denied (fraud)"
    NO_ANSWER = "no-answer", "Not answered"
    BUSY = "busy", "Busy"
    VOICEMAIL = "voicemail", "Voicemail"
    FAILED = "failed", "Failed"
    DROPPED = "dropped", "Dropped before an answer"
    UNCLEAR = "unclear", "No clear answer"
    OPTED_OUT = "opted-out", "Customer opted out"


# error_code of an attempt whose request to Twilio got no readable answer: the call
# may have been placed. It stays on the line until Twilio's call list says.
CALL_NOT_KNOWN = "not-known"


class CallAttempt(models.Model):
    """One placed (or attempted) call about a transaction."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="calls")
    call_sid = models.CharField("Call SID", max_length=64, null=True, blank=True, unique=True)
    trigger = models.CharField(max_length=8, choices=CallTrigger, default=CallTrigger.MANUAL)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    twilio_status = models.CharField(max_length=16, blank=True)
    # Highest SequenceNumber applied: an older or repeated callback is ignored.
    last_sequence = models.IntegerField(null=True, blank=True)
    answered_by = models.CharField(max_length=32, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=12, choices=CallOutcome, blank=True, default="")
    current_step = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["transaction", "-created_at"], name="call_txn_idx"),
            # Reports and the contact-rules check: the calls placed on a day.
            models.Index(fields=["created_at"], name="call_created_idx"),
        ]
        constraints = [
            # One live call per transaction: a second click, bulk request or retry
            # cannot ring the customer while a call is on the line.
            models.UniqueConstraint(
                fields=["transaction"],
                condition=Q(ended_at__isnull=True),
                name="one_live_call_per_transaction",
            ),
        ]

    def __str__(self):
        return self.call_sid or f"call #{self.pk}"

    def adopt(self, call_sid: str, twilio_status: str = "") -> bool:
        """Give a placed call's SID to this attempt, if it has none; False if it had one.

        Twilio's first webhook can beat the REST answer, and a request that timed
        out may have placed the call: the call found is this attempt's.
        """
        values = {"call_sid": call_sid}
        if self.error_code == CALL_NOT_KNOWN:
            values.update(error_code="", error_message="")
        if twilio_status and not self.twilio_status:
            values["twilio_status"] = twilio_status
        with transaction.atomic():
            adopted = CallAttempt.objects.filter(pk=self.pk, call_sid__isnull=True).update(**values)
        if adopted:
            for name, value in values.items():
                setattr(self, name, value)
        return bool(adopted)

    @property
    def failure_reason(self) -> str:
        if not (self.error_code or self.error_message):
            return ""
        if self.error_code:
            return f"{self.error_message} ({self.error_code})"
        return self.error_message


class CallEvent(models.Model):
    """One webhook of a call: what we asked and what the customer said or pressed."""

    class Kind(models.TextChoices):
        PROMPT = "prompt", "Prompt"
        ANSWER = "answer", "Answer"
        STATUS = "status", "Status callback"
        NOTE = "note", "Note"

    call = models.ForeignKey(CallAttempt, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=Kind)
    step = models.CharField(max_length=16, blank=True)
    prompt = models.TextField(blank=True)
    speech_result = models.TextField(blank=True)
    confidence = models.FloatField(null=True, blank=True)
    digits = models.CharField(max_length=32, blank=True)
    intent = models.CharField(max_length=16, blank=True)
    call_status = models.CharField(max_length=16, blank=True)
    sequence_number = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} {self.step}".strip()


class AuditEntry(models.Model):
    """A manual change: who changed what, from what, to what, when."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="audit")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Set instead of user when the bank's system made the change through the alerts API.
    api_key = models.ForeignKey(
        "ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    field = models.CharField(max_length=32)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, default="dashboard")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.field}: {self.old_value} → {self.new_value}"


def validate_rate(value: str):
    # Imported here: ivr_project.ratelimit imports ivr_project.models at load time.
    from ivr_project.ratelimit import parse_rate

    try:
        parse_rate(value)
    except ValueError as e:
        raise ValidationError(str(e)) from None


API_KEY_PREFIX = "ivr_"


class ApiKey(models.Model):
    """One integration's key to the alerts API. Only its SHA-256 is kept.

    A key reads `ivr_<prefix>_<secret>`: the prefix finds the row, the hash of the
    whole key proves it. Keys are long random tokens, so a plain SHA-256 suffices
    (a slow password hash defends guessable secrets, not 256 random bits).
    """

    name = models.CharField(max_length=100, unique=True, help_text="Who uses it, e.g. core-banking")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    rate_limit = models.CharField(
        max_length=20,
        default="600/1m",
        validators=[validate_rate],
        help_text="Requests allowed, as N/period: 600/1m is 600 a minute.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"

    def __str__(self):
        return self.name

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def generate(self) -> str:
        """Give the (unsaved) row a new key; returns the key, which is never stored."""
        self.prefix = secrets.token_hex(4)
        key = f"{API_KEY_PREFIX}{self.prefix}_{secrets.token_urlsafe(32)}"
        self.key_hash = self.digest(key)
        return key

    @classmethod
    def issue(cls, name: str, *, rate_limit: str = "", created_by=None) -> tuple["ApiKey", str]:
        """A new saved key and its only readable copy."""
        api_key = cls(name=name, created_by=created_by)
        if rate_limit:
            api_key.rate_limit = rate_limit
        key = api_key.generate()
        api_key.full_clean()
        api_key.save()
        return api_key, key

    @classmethod
    def find(cls, key: str) -> "ApiKey | None":
        """The active key `key` is, or None (unknown, wrong or revoked)."""
        prefix, _, secret = key.removeprefix(API_KEY_PREFIX).partition("_")
        if not key.startswith(API_KEY_PREFIX) or not prefix or not secret:
            return None
        api_key = cls.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
        if api_key is None or not hmac.compare_digest(api_key.key_hash, cls.digest(key)):
            return None
        return api_key

    def revoke(self) -> bool:
        now = timezone.now()
        revoked = ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=now)
        if revoked:
            self.revoked_at = now
        return bool(revoked)

    def mark_used(self):
        """Note the time, at most once a minute: not one write per request."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < timedelta(minutes=1):
            return
        ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now


class WorkerClock(models.Model):
    """A named instant shared by every task worker, changed only by conditional updates.

    "call-slot": the next free slot for an automatic call (the CALLS_PER_SECOND
    throttle); "last-call": when the last automatic call was let through;
    "tick": when the one pending periodic tick is due (see voiceflow/tasks.py).
    """

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


# --- outcome events: the transactional outbox (written with the change that causes
# them) and their delivery to the bank's endpoints (transactions/events.py sends).


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: 32 random bytes, base64, prefixed whsec_."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def validate_endpoint_url(url: str) -> None:
    """https, or http to this machine only: events carry customers' names and phone numbers."""
    URLValidator(schemes=["http", "https"])(url)
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValidationError(
            "Use an https URL: events carry customers' names and phone numbers "
            "(http only to this machine: localhost, 127.0.0.1 or [::1])."
        )


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(16)


class WebhookEndpoint(models.Model):
    """Where the bank wants outcome events, and the secret they are signed with."""

    url = models.URLField("URL", max_length=2000, validators=[validate_endpoint_url])
    event_types = models.JSONField(default=list, help_text="EventType values sent here.")
    active = models.BooleanField(default=True)
    # Kept to sign with; shown once when the endpoint is created (or rotated), never again.
    secret = models.CharField(max_length=100, default=new_webhook_secret, editable=False)
    # After a rotation the old secret signs too, until then, so the bank can switch over.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.url

    def signing_secrets(self, now) -> list[str]:
        """The current secret, and the one it replaced while that still signs."""
        if self.previous_secret and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def rotate_secret(self) -> str:
        """Give the endpoint a new secret and return it; the old one signs too for a while.

        Conditional on the secret still being the one read, so two supervisors
        rotating at once cannot both be shown a secret and one of them lose it.
        """
        new = new_webhook_secret()
        until = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
        rotated = WebhookEndpoint.objects.filter(pk=self.pk, secret=self.secret).update(
            secret=new, previous_secret=self.secret, previous_secret_until=until
        )
        if not rotated:
            raise SecretChanged("The secret was changed meanwhile; nothing was rotated.")
        self.secret, self.previous_secret, self.previous_secret_until = new, self.secret, until
        return new


class SecretChanged(Exception):
    """Someone else rotated the endpoint's secret first."""


class OutcomeEvent(models.Model):
    """One event about a case; its payload is frozen when the change that caused it is made."""

    type = models.CharField(max_length=32, choices=EventType)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="outcome_events"
    )
    # webhook-id: the same on every retry and redelivery, so the bank can drop repeats.
    msg_id = models.CharField("message id", max_length=40, unique=True, default=new_message_id)
    payload = models.JSONField(help_text="The body sent: type, timestamp, data.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        permissions = [("redeliver_outcomeevent", "Can redeliver outcome events")]

    def __str__(self):
        return f"{self.type} {self.msg_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its time (next_attempt_at) or an older event
    SENDING = "sending", "Sending"  # a worker holds it until next_attempt_at (the lease)
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # retried for the whole window, or never to be sent


class Delivery(models.Model):
    """One event to one endpoint: sent until a 2xx answer or the retry window is over."""

    event = models.ForeignKey(OutcomeEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=DeliveryState, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Pending: due at. Sending: the lease's end (a worker that died is found after it).
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            # The sweep: deliveries due (or whose lease ran out), oldest first.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery: when, the answer, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    http_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.http_status or self.error}"
