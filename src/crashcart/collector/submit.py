"""The submission handler: one crash report in, a stored and queued crash (or a clear refusal) out.

Order of work per request, each step for a reason:
1. refuse early what is too big (Content-Length over the limit: 413 before reading a byte);
2. stream the body into the payload parser (bounded memory; dumps over a threshold spool to disk), on the
   event loop but in slices of a few ms of CPU, within a CPU budget per request (``too_large_parse_time`` past it), so
   a body crafted to be slow to parse stalls no other request;
3. throttle, then make the crash id from the same instant as ``submitted_timestamp`` (their dates agree);
4. store everything, raw crash last, with a pending-publish marker, and only then
5. publish the id; a publish failure still answers 200 because the sweep will publish from the marker;
6. answer, then clear the marker (a lost clear only means one harmless duplicate publish later).
With filesystem storage the committer answers at step 4 (the crash is durable) and publishes right after,
off the request's path; the marker covers the gap.
A storage failure is the only server-side refusal (503 + Retry-After): the client keeps the report and
retries. Every other failure mode is a 4xx with a machine-readable ``Discarded=`` reason.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crashcart.asgi import Receive, Scope, Send, header, respond
from crashcart.collector.committer import Committer
from crashcart.collector.payload import Limits, Payload, PayloadParser
from crashcart.collector.publisher import BatchPublisher
from crashcart.collector.refusals import Malformed, Refusal, Refused
from crashcart.collector.throttle import Decision, ThrottleRules
from crashcart.crashid import Throttle, create_crash_id, date_of, is_crash_id
from crashcart.errors import QueueUnavailable, StorageUnavailable
from crashcart.logs import crash_context
from crashcart.metrics import Metrics
from crashcart.queue.interfaces import STANDARD
from crashcart.storage.interfaces import RawCrashWriter

LOGGER = logging.getLogger(__name__)

# Annotations that identify a person or a telemetry session: removed before storing (Antenna does the same).
PRIVATE_ANNOTATIONS = ("Email", "TelemetryClientId", "TelemetryServerURL", "TelemetrySessionId")

RETRY_AFTER_SECONDS = b"30"


@dataclass(frozen=True)
class SubmitConfig:
    limits: Limits
    spool_dir: Path
    body_timeout: float
    publish_timeout: float
    submitter_token: str
    queue_deferred: bool = True
    """Queue crashes a throttle rule defers (``Throttle.DEFER``); False stores them only (no marker, no publish)."""


class BodyTimeout(Exception):
    """The client stopped sending its body."""


class Submitter:
    """Handles ``POST /submit``. Built once per worker process by the composition root."""

    def __init__(
        self,
        config: SubmitConfig,
        storage: RawCrashWriter,
        publisher: BatchPublisher,
        throttle: ThrottleRules,
        metrics: Metrics,
        executor: concurrent.futures.Executor,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        committer: Committer | None = None,
    ) -> None:
        self._config = config
        self._storage = storage
        self._publisher = publisher
        self._throttle = throttle
        self._metrics = metrics
        self._executor = executor
        self._clock = clock
        # With a committer (filesystem storage) saves are staged on the loop and synced in batches by one
        # thread; otherwise (object stores) each save runs in the executor.
        self._committer = committer
        config.spool_dir.mkdir(parents=True, exist_ok=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        self._metrics.incr("crashcart_collector_received_total")
        try:
            await self._handle(scope, receive, send)
        finally:
            self._metrics.observe("crashcart_collector_request_seconds", time.perf_counter() - start)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self._config.limits
        length = header(scope, b"content-length")
        if (
            length is not None
            and length.strip().isascii()
            and length.strip().isdigit()
            and int(length) > limits.max_request_size
        ):
            await self._refuse(send, Refusal.TOO_LARGE_REQUEST)
            return

        submitted = self._clock()
        parser = PayloadParser(
            header(scope, b"content-type"),
            header(scope, b"content-encoding"),
            limits,
            self._config.spool_dir,
            query_string=scope.get("query_string", b"").decode("latin-1"),
        )
        try:
            payload = await self._read_payload(parser, receive)
        except Refused as exc:
            parser.discard()
            await self._refuse(send, exc.refusal)
            return
        except BodyTimeout:
            parser.discard()
            await self._refuse(send, Refusal.BODY_TIMEOUT)
            return
        except Exception:
            # The parser is fuzzed to raise only Malformed/TooLarge; if it ever does otherwise, the client
            # still gets a clear 400 rather than a 500 that would make it retry the same bytes forever.
            parser.discard()
            LOGGER.exception("payload parser failed unexpectedly")
            await self._refuse(send, Refusal.UNPARSEABLE)
            return

        try:
            await self._accept(scope, send, payload, submitted)
        finally:
            parser.discard()

    async def _read_payload(self, parser: PayloadParser, receive: Receive) -> Payload:
        wire = 0
        try:
            # One deadline for the whole body (not one timer per chunk: that costs more than the parsing).
            async with asyncio.timeout(self._config.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise Malformed(Refusal.CLIENT_DISCONNECTED)
                    chunk = message.get("body", b"")
                    if chunk:
                        wire += len(chunk)
                        # Parsed on the loop, in slices: a chunk that inflates to much work lets other
                        # requests in every few ms, and the parser refuses it past its CPU budget.
                        for _ in parser.feed_steps(chunk):
                            await asyncio.sleep(0)
                    if not message.get("more_body", False):
                        break
        except TimeoutError as exc:
            raise BodyTimeout from exc
        payload = parser.finish()
        self._metrics.incr("crashcart_collector_bytes_total", wire, kind="wire")
        self._metrics.incr("crashcart_collector_bytes_total", payload.body_size, kind="decompressed")
        return payload

    async def _accept(self, scope: Scope, send: Send, payload: Payload, submitted: dt.datetime) -> None:
        annotations = payload.annotations
        notes = list(payload.notes)
        decision = self._throttle.decide(annotations, submitted)
        result_name = decision.result.name.lower()
        self._metrics.incr("crashcart_collector_throttled_total", rule=decision.rule, result=result_name)

        crash_id, refusal = self._choose_crash_id(scope, annotations, submitted, decision)
        if refusal is not None:
            await self._refuse(send, refusal)
            return
        assert crash_id is not None

        with crash_context(crash_id):
            LOGGER.info("matched by %s; returned %s", decision.rule, decision.result.name)
            if decision.result is Throttle.REJECT:
                await self._refuse(send, Refusal.THROTTLED, rule=decision.rule)
                return
            if decision.result is Throttle.FAKEACCEPT:
                self._metrics.incr("crashcart_collector_accepted_total", result="fakeaccept")
                await respond(send, 200, f"CrashID=bp-{crash_id}\n".encode())
                return

            raw_crash = self._raw_crash(scope, payload, annotations, notes, crash_id, submitted, decision)
            # A store-only deferred crash gets no pending marker either, so the sweep never queues it.
            queued = decision.result is not Throttle.DEFER or self._config.queue_deferred
            if self._committer is not None:
                await self._save_with_committer(send, crash_id, raw_crash, payload, result_name, queued)
                return
            try:
                await self._in_thread(self._save, crash_id, raw_crash, payload, queued)
            except StorageUnavailable as exc:
                await self._refuse_storage_unavailable(send, exc)
                return
            if not queued:
                self._metrics.incr("crashcart_collector_accepted_total", result=result_name)
                await respond(send, 200, f"CrashID=bp-{crash_id}\n".encode())
                return

            # The publisher clears the pending marker once the id is on the queue; if that fails, the
            # marker stays and the sweep publishes a duplicate id, which processing tolerates.
            await self._publish(crash_id)
            self._metrics.incr("crashcart_collector_accepted_total", result=result_name)
            await respond(send, 200, f"CrashID=bp-{crash_id}\n".encode())

    async def _save_with_committer(
        self,
        send: Send,
        crash_id: str,
        raw_crash: dict[str, Any],
        payload: Payload,
        result_name: str,
        queued: bool,
    ) -> None:
        assert self._committer is not None
        start = time.perf_counter()
        try:
            # Durable on return; queued right after (unless ``queued`` is False).
            await self._committer.save(crash_id, raw_crash, payload.dumps, publish=queued)
        except StorageUnavailable as exc:
            await self._refuse_storage_unavailable(send, exc)
            return
        self._metrics.observe("crashcart_collector_save_seconds", time.perf_counter() - start)
        self._observe_dumps(payload)
        self._metrics.incr("crashcart_collector_accepted_total", result=result_name)
        await respond(send, 200, f"CrashID=bp-{crash_id}\n".encode())

    def _choose_crash_id(
        self, scope: Scope, annotations: dict[str, Any], submitted: dt.datetime, decision: Decision
    ) -> tuple[str | None, Refusal | None]:
        """A new id from the submission instant, or a trusted resubmitter's own id (``uuid`` annotation)."""
        client_id = annotations.get("uuid")
        if client_id is None:
            return create_crash_id(submitted, decision.result), None
        token = self._config.submitter_token
        auth = header(scope, b"authorization") or ""
        if not token or not hmac.compare_digest(auth.encode(), f"Bearer {token}".encode()):
            return None, Refusal.UNAUTHORIZED_UUID
        if not isinstance(client_id, str) or not is_crash_id(client_id, strict=True):
            return None, Refusal.INVALID_UUID
        # The date in an id must equal the date of its submitted_timestamp: a resubmitted crash keeps its
        # original timestamp, which must agree with the id it carries.
        original = annotations.get("submitted_timestamp")
        try:
            stamp = dt.datetime.fromisoformat(str(original)) if original else None
        except ValueError:
            stamp = None
        if stamp is None or stamp.tzinfo is None or stamp.astimezone(dt.UTC).date() != date_of(client_id):
            return None, Refusal.UUID_DATE_MISMATCH
        return client_id, None

    def _raw_crash(
        self,
        scope: Scope,
        payload: Payload,
        annotations: dict[str, Any],
        notes: list[str],
        crash_id: str,
        submitted: dt.datetime,
        decision: Decision,
    ) -> dict[str, Any]:
        raw: dict[str, Any] = dict(annotations)
        for key in PRIVATE_ANNOTATIONS:
            if key in raw:
                del raw[key]
                notes.append(f"Removed {key} from raw crash.")
        if "uuid" not in annotations or "submitted_timestamp" not in annotations:
            raw["submitted_timestamp"] = submitted.isoformat()
        raw["uuid"] = crash_id
        raw["version"] = 2
        raw["metadata"] = {
            "payload": payload.kind,
            "payload_compressed": "1" if payload.compressed else "0",
            "payload_size": payload.wire_size,
            "collector_notes": notes,
            "dump_checksums": {dump.name: dump.sha256 for dump in payload.dumps},
            "user_agent": header(scope, b"user-agent") or "None",
            "throttle_rule": decision.rule,
            "throttle_result": decision.result.name.lower(),
        }
        return raw

    def _observe_dumps(self, payload: Payload) -> None:
        for dump in payload.dumps:
            self._metrics.observe("crashcart_collector_dump_bytes", dump.size)

    async def _refuse_storage_unavailable(self, send: Send, exc: StorageUnavailable) -> None:
        """503 with Retry-After: the only server-side refusal, so clients keep the report and retry."""
        LOGGER.error("could not store crash: %s", exc)
        await self._refuse(send, Refusal.STORAGE_UNAVAILABLE, [(b"retry-after", RETRY_AFTER_SECONDS)])

    def _save(self, crash_id: str, raw_crash: dict[str, Any], payload: Payload, queued: bool) -> None:
        pending_queue = STANDARD if queued else None
        with crash_context(crash_id), self._metrics.timer("crashcart_collector_save_seconds"):
            self._storage.save_raw_crash(crash_id, raw_crash, payload.dumps, pending_queue=pending_queue)
        self._observe_dumps(payload)
        LOGGER.info("saved", extra={"crash_id": crash_id})

    async def _publish(self, crash_id: str) -> bool:
        start = time.perf_counter()
        try:
            await asyncio.wait_for(self._publisher.publish(STANDARD, crash_id), self._config.publish_timeout)
        except (QueueUnavailable, TimeoutError) as exc:
            self._metrics.incr("crashcart_collector_publish_failures_total")
            LOGGER.warning("stored but not published (the sweep will publish it): %r", exc)
            return False
        self._metrics.observe("crashcart_collector_publish_seconds", time.perf_counter() - start)
        LOGGER.info("published")
        return True

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _refuse(
        self,
        send: Send,
        refusal: Refusal,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
        **fields: str,
    ) -> None:
        """Answer with one of the table's refusals: its status, ``Discarded=<reason>``, and a count by reason."""
        reason = refusal.discarded(**fields)
        self._metrics.incr("crashcart_collector_rejected_total", reason=reason)
        LOGGER.info("refused: %s", reason, extra={"status": refusal.status})
        await respond(send, refusal.status, Refusal.body(reason), extra_headers=extra_headers)
