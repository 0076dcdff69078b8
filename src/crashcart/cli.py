"""The ``crashcart`` command: one entry point for every component and operator task."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from crashcart.errors import CrashcartError
from crashcart.queue.interfaces import QUEUES, STANDARD
from crashcart.settings import Settings, SettingsError, describe_settings, load_settings

#: Error codes that mean the command line itself is wrong: exit 2, as click does for usage errors.
_USAGE_ERRORS = frozenset({"not_a_crash_id"})


class CommandFailed(click.ClickException):
    """A ``CrashcartError`` shown the way people and scripts want it: one line on stderr naming what failed
    (its stable code first, then the message), no traceback, exit status 1."""

    def __init__(self, error: CrashcartError) -> None:
        from crashcart.terminal import one_line

        super().__init__(_redact(f"{error.code}: {one_line(str(error))}"))


class CommandMisused(CommandFailed):
    """A ``CrashcartError`` that says the command line is wrong: exit status 2, like click's usage errors."""

    exit_code = 2


class CrashcartGroup(click.Group):
    """The ``crashcart`` group: the one place a ``CrashcartError`` becomes a ``CommandFailed``.

    Backends translate foreign errors (sqlite3, pika, botocore, Django's) into ``crashcart.errors`` at their
    edge, so catching the taxonomy here covers every command and subcommand, and no command needs its own
    try/except to avoid printing a traceback at an operator. Anything else is a bug and keeps its traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CrashcartError as exc:
            raise (CommandMisused if exc.code in _USAGE_ERRORS else CommandFailed)(exc) from exc
        except click.ClickException as exc:
            # Every other message a command prints on failure passes here: no secret in it (a library's error
            # quoting a credentialed URL, a refused setting) reaches the terminal.
            redacted = _redact(exc.message)
            if redacted == exc.message:
                raise
            if isinstance(exc, click.UsageError):
                raise click.UsageError(redacted, exc.ctx) from None
            raise click.ClickException(redacted) from None


def _redact(message: str) -> str:
    """``message`` without URL passwords or any secret the settings hold (when they load at all)."""
    from crashcart.redact import redact

    try:
        secrets = load_settings().secret_values()
    except SettingsError:
        secrets = []  # the refused values are redacted by ``load_settings`` itself
    return redact(message, secrets)


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _setup_logging(settings: Settings) -> None:
    from crashcart.logs import setup_logging

    setup_logging(settings.log_format, settings.log_level, secrets=settings.secret_values())


@click.group(cls=CrashcartGroup)
@click.version_option(package_name="crashcart")
def main() -> None:
    """Crashcart: collect, store, process and search crash reports."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def run(host: str, port: int) -> None:
    """Run every component on one port (submit path: collector; the rest: web app), embedded backends under
    CRASHCART_DATA_DIR."""
    from crashcart.collector.server import serve_collector
    from crashcart.processor.app import ProcessorProcess

    settings = _settings()
    _setup_logging(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from crashcart.errors import ConfigError
    from crashcart.processor.app import validate_configuration

    try:
        validate_configuration(settings)  # here, so a mistake stops `run` instead of only its processor child
    except ConfigError as exc:
        raise click.ClickException(f"cannot start: {exc}") from exc
    processor = ProcessorProcess(settings, host)
    # One stops, all stop: a processor that ends by itself (at start or later) takes the collector with it,
    # so `run` never accepts crashes that nothing will process, and says which component failed.
    signal.signal(signal.SIGTERM, _stop_run)  # until uvicorn takes SIGTERM over, and after it gives it back
    processor.watch(lambda code: os.kill(os.getpid(), signal.SIGTERM))
    # One port: the router sends the submit path to the collector and the rest to the web application.
    serve = functools.partial(serve_collector, app="crashcart.web.router:app_from_environment")
    try:
        _serve(serve, settings, host, port, None)
    except _RunStopped:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # stopping already (and the stop below is bounded)
        processor.stop()
    code = processor.exitcode
    if processor.stopped_by_itself:  # whatever its status: nobody asked it to stop, so run did not finish well
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        raise click.ClickException(f"processor stopped ({how}); crashcart run stopped the collector with it")


class _RunStopped(Exception):
    """SIGTERM reached ``run`` while uvicorn was not handling it (before it started, or once it gave it back)."""


def _stop_run(signum: int, frame: object) -> None:
    raise _RunStopped


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")  # noqa: S104
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", type=int, default=None, help="Worker processes [CRASHCART_COLLECTOR_WORKERS].")
def collector(host: str, port: int, workers: int | None) -> None:
    """Run the collector: the HTTP endpoint crash reporters submit to."""
    from crashcart.collector.server import serve_collector

    settings = _settings()
    _setup_logging(settings)
    _serve(serve_collector, settings, host, port, workers)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address of the status port.")  # noqa: S104
@click.option(
    "--port", type=int, default=None, help="Status port (/metrics, heartbeats) [CRASHCART_PROCESSOR_STATUS_PORT]."
)
@click.option("--workers", type=int, default=None, help="Worker processes [CRASHCART_PROCESSOR_WORKERS].")
def processor(host: str, port: int | None, workers: int | None) -> None:
    """Run the processor: workers that turn stored crashes into processed, signed, indexed crashes."""
    from crashcart.processor.app import serve_processor

    settings = _settings()
    _setup_logging(settings)
    _serve(serve_processor, settings, host, port, workers)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")  # noqa: S104
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", type=int, default=None, help="Worker processes [CRASHCART_WEB_WORKERS].")
def web(host: str, port: int, workers: int | None) -> None:
    """Run the web application alone: the API, accounts and status endpoints (production, N workers)."""
    from crashcart.web.server import serve_web

    settings = _settings()
    _setup_logging(settings)
    _serve(serve_web, settings, host, port, workers)


def _serve(serve: Any, settings: Settings, host: str, port: int | None, workers: int | None) -> None:
    from crashcart.errors import ConfigError

    try:
        serve(settings, host, port, workers)
    except ConfigError as exc:
        raise click.ClickException(f"cannot start: {exc}") from exc


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def config(as_json: bool) -> None:
    """Show every setting: variable, type, default, description and current value (secrets masked)."""
    rows = describe_settings(_settings())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']} = {row['value']!s}")
        click.echo(f"    type: {row['type']}; default: {row['default'] or '(empty)'}")
        click.echo(f"    {row['description']}")


@main.group()
def queue() -> None:
    """Inspect and repair the crash queues."""


@queue.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def queue_status(as_json: bool) -> None:
    """Depth of each queue and its dead-letter queue."""
    from crashcart.queue import open_queue

    settings = _settings()
    q = open_queue(settings)
    try:
        q.declare()  # idempotent: a fresh embedded queue answers with zeros, not "no such table"
        depths = q.depth()
    finally:
        q.close()
    if as_json:
        click.echo(json.dumps({name: vars(d) for name, d in depths.items()}, indent=2))
        return
    click.echo(f"{'queue':<14}{'ready':>10}{'in flight':>12}{'delayed':>10}{'dead':>10}")
    for name, d in depths.items():
        click.echo(f"{name:<14}{d.ready:>10}{d.in_flight:>12}{d.delayed:>10}{d.dead:>10}")


@queue.command("republish")
@click.option("--since", "since", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC).")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Republish every stored raw crash since DATE, not only those never queued (after queue loss).",
)
def queue_republish(since: dt.datetime, everything: bool) -> None:
    """Publish crashes stored since DATE but never queued (the collector's sweep, run by hand)."""
    from crashcart.collector.sweep import republish_stored, sweep_pending
    from crashcart.queue import open_queue
    from crashcart.storage import Role, open_storage

    settings = _settings()
    storage, q = open_storage(settings, Role.COLLECTOR), open_queue(settings)
    q.declare()
    try:
        if everything:
            # The total is unknown until every day is listed, so this shows a running count.
            counter = _Counter("republished")
            result = republish_stored(storage, q, since.date(), dt.datetime.now(dt.UTC).date(), counter)
            counter.done()
        else:
            bars: list[Any] = []

            def start(total: int) -> None:
                bars.append(click.progressbar(length=total, label="publishing", show_pos=True, file=sys.stderr))
                bars[0].__enter__()

            def _advance(n: int) -> None:
                bars[0].update(n)

            try:
                result = sweep_pending(storage, q, 0.0, since.date(), progress=_advance, on_total=start)
            finally:
                if bars:
                    bars[0].__exit__(None, None, None)
    finally:
        q.close()
        storage.close()
    click.echo(f"published {result.published}, failed {result.failed}")
    if result.failed:
        sys.exit(1)


class _Counter:
    """A running count on stderr for long jobs whose total is not known in advance."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._n = 0

    def __call__(self, n: int) -> None:
        self._n += n
        click.echo(f"\r{self._label} {self._n}", nl=False, err=True)

    def done(self) -> None:
        click.echo(f"\r{self._label} {self._n}", err=True)


@queue.command("dead-letters")
@click.argument("name", default=STANDARD, type=click.Choice(QUEUES))
@click.option("--limit", default=100, show_default=True)
def queue_dead_letters(name: str, limit: int) -> None:
    """List dead-lettered messages of queue NAME with the reason they failed."""
    from crashcart.queue import open_queue

    q = open_queue(_settings())
    try:
        q.declare()
        for dead in q.dead_letters(name, limit):
            click.echo(f"{dead.body}\tattempts={dead.attempts}\t{dead.dead_at:%Y-%m-%d %H:%M:%S}\t{dead.reason}")
    finally:
        q.close()


@queue.command("requeue")
@click.argument("name", default=STANDARD, type=click.Choice(QUEUES))
@click.argument("bodies", nargs=-1)
def queue_requeue(name: str, bodies: tuple[str, ...]) -> None:
    """Move dead letters of queue NAME (all, or those given) back onto it."""
    from crashcart.queue import open_queue

    q = open_queue(_settings())
    try:
        q.declare()
        moved = q.requeue_dead(name, list(bodies) or None)
    finally:
        q.close()
    click.echo(f"requeued {moved}")


@main.group()
def index() -> None:
    """The crash index (search): rebuild it from storage."""


@index.command("rebuild")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (UTC) [30 days ago].")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (UTC) [today].")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint of an interrupted run over the same days.")
@click.option(
    "--readers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Processes reading processed crashes (0: one thread of this process, the fastest unless the "
    "storage is slow to answer, as remote object storage can be).",
)
def index_rebuild(since: dt.datetime | None, until: dt.datetime | None, restart: bool, readers: int) -> None:
    """Index every processed crash stored from --since to --until (resumable: run it again after a stop)."""
    from crashcart import database as db
    from crashcart.search.rebuild import Rebuild, count_stored
    from crashcart.search.writer import CrashIndex
    from crashcart.storage import Role, open_storage

    today = dt.datetime.now(dt.UTC).date()
    last = until.date() if until else today
    first = since.date() if since else last - dt.timedelta(days=30)
    if last < first:
        raise click.UsageError(f"--until {last} is before --since {first}")
    settings = _settings()
    db.migrate(settings)
    with contextlib.ExitStack() as stack:
        storage = open_storage(settings, Role.WEBAPP)  # lists and reads only
        stack.callback(storage.close)
        crash_index = CrashIndex(settings)
        stack.callback(crash_index.close)
        total = count_stored(storage, first, last)
        click.echo(f"{total} stored crash(es) from {first} to {last}", err=True)
        with click.progressbar(length=total, label="indexing", show_pos=True, file=sys.stderr) as bar:
            rebuild = Rebuild(
                storage, crash_index, first, last, progress=bar.update, readers=readers, settings=settings
            )
            result = rebuild.run(restart=restart)
    if result.resumed_from:
        day, last_id = result.resumed_from
        click.echo(f"resumed after {last_id or 'the start of'} {day}", err=True)
    click.echo(
        f"indexed {result.indexed}, without a processed crash {result.skipped}, unreadable {len(result.unreadable)} "
        f"({result.rate:,.0f} crashes/s)"
    )


@main.command()
@click.argument("crash_ids", nargs=-1)
@click.option("--signature", default=None, help="Every indexed crash with exactly this signature.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Every crash stored since DATE.")
@click.option("--ruleset", default=None, help="Ruleset to run (default: the default ruleset).")
def reprocess(
    crash_ids: tuple[str, ...], signature: str | None, since: dt.datetime | None, ruleset: str | None
) -> None:
    """Publish crashes to the reprocessing queue: CRASH_IDS, or --signature S, or --since DATE."""
    from crashcart.processor import reprocess as rp
    from crashcart.queue import open_queue

    if sum(bool(x) for x in (crash_ids, signature, since)) != 1:
        raise click.UsageError("give crash ids, or --signature, or --since (exactly one)")
    ids = rp.given_ids(crash_ids)  # a typo is reported before any backend is touched
    settings = _settings()
    with contextlib.ExitStack() as stack:
        q = open_queue(settings)
        stack.callback(q.close)
        q.declare()
        if crash_ids:
            selection = rp.Selection(len(ids), ids)
        elif signature:
            from crashcart.search.writer import CrashIndex

            index = CrashIndex(settings)
            stack.callback(index.close)
            selection = rp.with_signature(index, signature)
        else:
            from crashcart.storage import Role, open_storage

            assert since is not None
            storage = open_storage(settings, Role.WEBAPP)  # listing only: the read-only role suffices
            stack.callback(storage.close)
            selection = rp.stored_from(storage, since.date(), dt.datetime.now(dt.UTC).date())
        click.echo(f"{selection.count} crash(es) to publish", err=True)
        published = 0
        if selection.count:
            # On a terminal the bar redraws in place; elsewhere click prints its label once: logs stay clean.
            with click.progressbar(length=selection.count, label="publishing", show_pos=True, file=sys.stderr) as bar:
                published = rp.publish(q, selection.crash_ids, ruleset, bar.update)
    click.echo(f"published {published} to the reprocessing queue")


@main.command()
@click.argument("crash_id")
def signature(crash_id: str) -> None:
    """Print CRASH_ID's stored signature, the one generated now, and how it was generated (debug log)."""
    from crashcart.processor import reprocess as rp
    from crashcart.processor.app import signature_generator
    from crashcart.processor.signature import signature_data
    from crashcart.storage import Role, open_storage

    settings = _settings()
    (crash_id,) = rp.given_ids([crash_id])
    storage = open_storage(settings, Role.WEBAPP)
    try:
        processed = storage.get_processed_crash(crash_id)
    finally:
        storage.close()
    result = signature_generator(settings).generate(signature_data(processed))
    stored = processed.get("signature")
    click.echo(f"crash id:        {crash_id}")
    click.echo(f"stored:          {stored}")
    click.echo(f"regenerated:     {result.signature}" + ("" if result.signature == stored else "   (differs)"))
    click.echo(f"proto_signature: {result.extra.get('proto_signature', '')}")
    for note in result.notes:
        click.echo(f"note:            {note}")
    click.echo("debug log:")
    for line in result.debug_log:
        click.echo(f"  {line}")


@main.group()
def crash() -> None:
    """Read processed crashes."""


@crash.command("show")
@click.argument("crash_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole processed crash as JSON.")
@click.option("--all-frames", is_flag=True, help="Show every frame of the crashing thread, not only the top ones.")
def crash_show(crash_id: str, as_json: bool, all_frames: bool) -> None:
    """Summarise processed crash CRASH_ID: product, signature, reason, the crashing thread's frames, notes."""
    from crashcart.processor import reprocess as rp
    from crashcart.processor import show
    from crashcart.storage import Role, open_storage

    settings = _settings()
    (crash_id,) = rp.given_ids([crash_id])
    storage = open_storage(settings, Role.WEBAPP)  # reading only: the web app's role
    try:
        processed = show.load(storage, crash_id)
    finally:
        storage.close()
    if as_json:
        # ensure_ascii escapes every control and non-ASCII character: hostile values cannot reach the terminal.
        click.echo(json.dumps(processed, indent=2, sort_keys=True, ensure_ascii=True))
        return
    max_frames = None if all_frames else show.DEFAULT_FRAMES
    click.echo(show.render(crash_id, processed, max_frames, hint="--all-frames shows them"), nl=False)


@crash.command("open")
@click.argument("crash_id")
@click.option("--no-browser", is_flag=True, help="Only print the URL.")
def crash_open(crash_id: str, no_browser: bool) -> None:
    """Print the report page's URL of CRASH_ID (``bp-`` prefix accepted) and open it in a browser, if one is
    available (``BROWSER`` or the system's default)."""
    import webbrowser

    from crashcart.processor import reprocess as rp

    settings = _settings()
    (crash_id,) = rp.given_ids([crash_id])
    url = f"{settings.site_url.rstrip('/')}/report/index/{crash_id}"
    # Only a graphical browser, or the one BROWSER names: on a server webbrowser would start a text browser
    # in this terminal and keep it.
    graphical = os.environ.get("BROWSER") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not no_browser and (graphical or sys.platform in ("darwin", "win32")):
        with contextlib.suppress(webbrowser.Error):
            webbrowser.get().open(url)
    click.echo(url)


@main.group()
def storage() -> None:
    """Crash storage administration."""


@storage.command("policy")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["collector", "processor", "webapp"]),
    help="The component whose credentials the policy is for.",
)
@click.option("--bucket", default=None, help="Bucket name [default: from CRASHCART_STORAGE_URL].")
@click.option("--prefix", default=None, help="Key prefix [default: from CRASHCART_STORAGE_URL].")
def storage_policy(role: str, bucket: str | None, prefix: str | None) -> None:
    """Print the S3 IAM policy that gives ROLE exactly the storage access it needs."""
    from crashcart.errors import ConfigError
    from crashcart.storage.access import Role, s3_policy
    from crashcart.storage.s3 import parse_s3_url

    if bucket is None:
        try:
            bucket, url_prefix = parse_s3_url(_settings().storage_url)
        except ConfigError as exc:
            raise click.UsageError(f"--bucket is needed when storage is not on S3 ({exc})") from exc
        prefix = url_prefix if prefix is None else prefix
    click.echo(json.dumps(s3_policy(Role(role), bucket, prefix or ""), indent=2))


@main.command()
@click.argument("dump", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--symbols-path",
    "symbols_paths",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory of symbols in the Breakpad layout (repeatable, tried first, in order).",
)
@click.option(
    "--symbols-url", "symbols_urls", multiple=True, help="Symbol source URL: file://, https://, s3:// (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print rust-minidump's --json document instead of text.")
@click.option("--raw-crash", type=click.Path(path_type=Path, dir_okay=False), help="The crash's annotations (JSON).")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), help="Symbol cache directory.")
def stackwalk(
    dump: Path,
    symbols_paths: tuple[Path, ...],
    symbols_urls: tuple[str, ...],
    as_json: bool,
    raw_crash: Path | None,
    cache_dir: Path | None,
) -> None:
    """Walk the stacks of minidump DUMP and print them, symbolicated (Breakpad-like text or JSON)."""
    from crashcart.logs import setup_command_logging
    from crashcart.processor.walker import walker_config
    from crashcart.redact import passwords_in
    from crashcart.stackwalk.command import StackwalkCommandError, StackwalkRequest, run_stackwalk

    settings = _settings()
    setup_command_logging([*settings.secret_values(), *(p for url in symbols_urls for p in passwords_in(url))])
    request = StackwalkRequest(dump, symbols_paths, symbols_urls, as_json, raw_crash, cache_dir)
    try:
        output = run_stackwalk(request, walker_config(settings))
    except StackwalkCommandError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(output, nl=False)


# --- bugs (S4: the signature-bug associations behind /api/Bugs/ and /api/SignaturesByBugs/) ---------------


@main.group()
def bugs() -> None:
    """Tie bugs to crash signatures (what /api/Bugs/ and /api/SignaturesByBugs/ answer from)."""


@contextlib.contextmanager
def _bug_table() -> Any:
    """The crash index, migrated, with database errors said as ``IndexUnavailable`` (one line, no traceback)."""
    from crashcart import database as db
    from crashcart.errors import IndexUnavailable

    settings = _settings()
    db.migrate(settings)
    from django.db import DatabaseError, connections

    try:
        yield
    except DatabaseError as exc:
        raise IndexUnavailable(f"bug associations: {exc}") from exc
    finally:
        connections.close_all()


@bugs.command("add")
@click.argument("bug_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("signatures", nargs=-1, required=True)
def bugs_add(bug_id: int, signatures: tuple[str, ...]) -> None:
    """Tie BUG_ID to each of SIGNATURES (exact signatures; adding one twice is harmless)."""
    from crashcart.web.api.endpoints.bugs import add_associations

    with _bug_table():
        added = add_associations(bug_id, signatures)
    click.echo(f"bug {bug_id}: {added} new association(s)")


@bugs.command("remove")
@click.argument("bug_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("signatures", nargs=-1)
def bugs_remove(bug_id: int, signatures: tuple[str, ...]) -> None:
    """Untie BUG_ID from SIGNATURES (from every signature when none is given)."""
    from crashcart.web.api.endpoints.bugs import remove_associations

    with _bug_table():
        removed = remove_associations(bug_id, signatures)
    click.echo(f"bug {bug_id}: {removed} association(s) removed")


@bugs.command("list")
@click.argument("bug_ids", nargs=-1, type=click.IntRange(1, 2**31 - 1))
def bugs_list(bug_ids: tuple[int, ...]) -> None:
    """Print the associations of BUG_IDS (tab-separated bug id and signature), or of every bug."""
    from crashcart.terminal import one_line
    from crashcart.web.api.endpoints.bugs import all_associations, associations_of_bugs

    with _bug_table():
        rows = associations_of_bugs(bug_ids) if bug_ids else all_associations()
    for row in rows:
        click.echo(f"{row['id']}\t{one_line(row['signature'])}")


# --- users and API tokens (issue #10, point 9: scripts depend on these exact forms) ---------------------------


def _accounts() -> Any:
    """Django set up and migrated (as every role does at start), then the accounts service."""
    from crashcart import database

    settings = _settings()
    database.migrate(settings)
    from crashcart.web.accounts import service

    return service


def _permissions_option(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@main.group()
def user() -> None:
    """Web application users."""


@user.command("create")
@click.argument("name")
@click.option(
    "--permissions", default=None, help="Comma-separated: view_pii,view_rawdump,reprocess_crashes,upload_symbols."
)
@click.option("--superuser", is_flag=True, help="Every permission, now and later.")
@click.option("--password-stdin", is_flag=True, help="Read a password from the first line of stdin (else none).")
def user_create(name: str, permissions: str | None, superuser: bool, password_stdin: bool) -> None:
    """Create user NAME (without --password-stdin it has no password: API tokens are its credential)."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin read an empty password")
    service = _accounts()
    created = service.create_user(name, _permissions_option(permissions), superuser=superuser, password=password)
    perms = "all (superuser)" if superuser else ", ".join(sorted(service.user_permissions(created))) or "none"
    click.echo(f"created user {name} (permissions: {perms})")


@main.group()
def token() -> None:
    """API tokens (sent as the Auth-Token header)."""


@token.command("create")
@click.argument("name")
@click.option("--permissions", default=None, help="Comma-separated subset of the user's permissions (default none).")
@click.option("--days", type=int, default=None, help="Days until it expires [CRASHCART_TOKEN_DAYS].")
@click.option("--notes", default="", help="What the token is for.")
def token_create(name: str, permissions: str | None, days: int | None, notes: str) -> None:
    """Create an API token for user NAME; the token alone is the last line (shown once, stored hashed)."""
    settings = _settings()
    service = _accounts()
    info, key = service.create_token(
        name, _permissions_option(permissions), days=settings.token_days if days is None else days, notes=notes
    )
    click.echo(
        f"token {info.public_id} for {name} (permissions: {', '.join(info.permissions) or 'none'}; "
        f"expires {info.expires:%Y-%m-%d %H:%M} UTC)"
    )
    click.echo(key)


@token.command("list")
@click.argument("name", required=False)
def token_list(name: str | None) -> None:
    """List API tokens (of user NAME): id, user, state, permissions, dates, notes; never the token."""
    from crashcart.terminal import printable

    service = _accounts()
    now = dt.datetime.now(dt.UTC)
    click.echo(f"{'id':<10}{'user':<20}{'state':<9}{'created':<18}{'expires':<18}{'last used':<18}permissions / notes")
    for info in service.list_tokens(name):
        last = f"{info.last_used:%Y-%m-%d %H:%M}" if info.last_used else "never"
        notes = f"  # {printable(info.notes, 80)}" if info.notes else ""
        click.echo(
            f"{info.public_id:<10}{printable(info.username, 19):<20}{info.state(now):<9}"
            f"{info.created:%Y-%m-%d %H:%M}  {info.expires:%Y-%m-%d %H:%M}  {last:<18}"
            f"{','.join(info.permissions) or '-'}{notes}"
        )


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke the API token with id TOKEN_ID (from crashcart token list); it is refused from now on."""
    info = _accounts().revoke_token(token_id)
    click.echo(f"revoked token {info.public_id} of {info.username}")


if __name__ == "__main__":
    main()
