"""Run one simulated call to its end, through the real HTTP stack, and print the conversation.

    manage.py simulate_call TXN001 --say "no" --say "no" --say "yes" --say "virtual"
    manage.py simulate_call TXN002 --press 1
    manage.py simulate_call TXN003 --persona 5

Our WSGI app is served in this process on 127.0.0.1 (an ephemeral port);
the call is placed by voiceflow's request_call with the real twilio client
against the simulator's REST API there, and the call engine plays it here
(not on a task worker), calling our real, signed webhooks.
"""

import logging
import threading

from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.test.utils import override_settings

from simulator.engine import run_call
from simulator.models import SimCall
from simulator.personas import PERSONAS

WHO = {"bank": "Bank    ", "customer": "Customer", "call": "  ..    "}


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass  # the conversation is the output, not the access log


class Command(BaseCommand):
    help = "Place one simulated call and play it to the end, printing the conversation."

    def add_arguments(self, parser):
        parser.add_argument("public_id", help="the transaction's ID, e.g. TXN001")
        parser.add_argument(
            "--say",
            action="append",
            dest="replies",
            default=[],
            type=lambda words: {"speech": words, "confidence": 0.9},
            help="what the customer says at the next question (repeatable, in order)",
        )
        parser.add_argument(
            "--press",
            action="append",
            dest="replies",
            type=lambda keys: {"digits": keys},
            help="keys the customer presses at the next question (repeatable, in order)",
        )
        parser.add_argument(
            "--persona",
            choices=sorted(k for k in PERSONAS if k != "scripted"),
            help="a scripted customer instead of the one the number picks (see the README)",
        )

    def handle(self, *args, public_id, replies, persona, **options):
        from django.conf import settings

        from transactions.models import Transaction

        if not settings.SIMULATION:
            raise CommandError("simulate_call needs the simulator: unset TWILIO_SID.")
        txn = Transaction.objects.filter(public_id=public_id).first()
        if txn is None:
            raise CommandError(f"No transaction {public_id}.")

        # The twilio client logs every request at INFO: the conversation is what matters here.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
        server.set_app(get_wsgi_application())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            with override_settings(
                PUBLIC_URL=base,
                TWILIO_API_BASE_URL=f"{base}/{settings.SIMULATOR_PREFIX}api",
                SECURE_SSL_REDIRECT=False,
                ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"],
                SIMULATOR_PICKUP_SECONDS=0,
                # The call plays here, not on a task worker that may be running beside us.
                TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}},
            ):
                self._call(txn, replies, persona)
        finally:
            server.shutdown()
            server.server_close()

    def _call(self, txn, replies, persona):
        from voiceflow.calls import CallConflict, CallFailed, request_call

        self.stdout.write(f"Calling {txn.client_name} at {txn.phone} about {txn.public_id}…")
        try:
            attempt = request_call(txn)
        except CallConflict as e:
            raise CommandError(e.message) from None
        except CallFailed as e:
            txn.refresh_from_db()
            raise CommandError(f"{e.message}. Status: {txn.status}.") from None
        call = SimCall.objects.get(sid=attempt.call_sid)
        changes = {}
        if replies:
            changes.update(scripted_replies=replies, persona="scripted")
        if persona:
            changes["persona"] = persona
        if changes:
            SimCall.objects.filter(pk=call.pk).update(**changes)
        key = changes.get("persona", call.persona)
        who = "replies given here" if replies else PERSONAS[key].label
        self.stdout.write(f"Customer: {who}.")

        def show(kind, text):
            self.stdout.write(f"{WHO.get(kind, kind)}  {text}")

        state = run_call(call.sid, on_line=show)
        txn.refresh_from_db()
        answers = ", ".join(f"{k}={v}" for k, v in txn.answers().items() if v is not None)
        self.stdout.write(
            self.style.SUCCESS(f"Call {state}. {txn.public_id} is now {txn.status}.")
            + (f" Answers: {answers}." if answers else "")
        )
