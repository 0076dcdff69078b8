"""One real ``crashcart run`` for the API tests: a temp data dir, a free port, real crashes submitted and
processed, and users with tokens made with the real CLI.

Starting the server and processing crashes takes seconds, so every API test module shares one site per
database per test session (``shared_site``), stopped when the session's process exits; tests only read from
it, except those that reprocess, which wait for their own crash. Crashes carry hostile protected values
(``HOSTILE``) so a test can look for their text in any body.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.collector import free_port
from tests.helpers.serving import wait_until_answering

REPO = Path(__file__).resolve().parents[2]
MINIDUMPS = REPO / "tests" / "fixtures" / "minidump"
CRASHCART = [sys.executable, "-m", "crashcart.cli"]

#: Protected values planted in every crash: none may appear in what a caller without view_pii receives.
#: Each is planted where a client puts it: annotations (``URL``, ``Comments``, ``RemoteType``, an annotation
#: no schema declares) and the User-Agent header, which the collector records in the protected ``metadata``.
HOSTILE: Mapping[str, str] = {
    "URL": "https://hostile.example/pii-url-7f3a",
    "Comments": "pii-comment-9c2e my email is someone@example.com",
    "RemoteType": "pii-remote-type-41d0",
    "GleanClientId": "pii-glean-client-0b5d",
    "UndeclaredSecretAnnotation": "pii-undeclared-e81c",
}
HOSTILE_USER_AGENT = "pii-user-agent-5a77/1.0"
#: The texts to search response bodies for.
HOSTILE_TEXTS: tuple[str, ...] = (*(v.split()[0] for v in HOSTILE.values()), HOSTILE_USER_AGENT)

#: Every permission a full token carries.
ALL_PERMISSIONS = ("view_pii", "view_rawdump", "reprocess_crashes")

#: Generous API rate limits: these tests make hundreds of requests a minute on purpose.
RATE_LIMIT_ENV = {
    "CRASHCART_API_RATE_LIMIT_ANONYMOUS": "1000000",
    "CRASHCART_API_RATE_LIMIT_TOKEN": "1000000",
    "CRASHCART_WEB_LOGIN_ATTEMPTS": "1000000",
}


@dataclass(frozen=True)
class Submitted:
    """One crash as submitted: its id, its annotations and its dumps' bytes by name."""

    crash_id: str
    annotations: Mapping[str, str]
    dumps: Mapping[str, bytes]


@dataclass
class Site:
    data_dir: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    crashes: list[Submitted] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "run.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-20_000:] if self.log_path.exists() else ""

    # --- the server ---------------------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*CRASHCART, "run", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_answering(self.proc, f"{self.url}/api/NoOp/", what="crashcart run", timeout=timeout, log=self.log)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``crashcart ARGS`` against this site's data dir (settings from the same environment as the server)."""
        return subprocess.run(
            [*CRASHCART, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )

    # --- crashes ----------------------------------------------------------------------------------------

    def submit(self, annotations: Mapping[str, str], dumps: Mapping[str, bytes]) -> Submitted:
        files = {name: (f"{name}.dmp", data, "application/octet-stream") for name, data in dumps.items()}
        response = httpx.post(
            f"{self.url}/submit",
            data=dict(annotations),
            files=files,
            headers={"User-Agent": HOSTILE_USER_AGENT},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        crash_id = response.text.strip().removeprefix("CrashID=bp-")
        submitted = Submitted(crash_id, dict(annotations), dict(dumps))
        self.crashes.append(submitted)
        return submitted

    def get(self, model: str, params: Any = None, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Auth-Token": token} if token else {}
        return httpx.get(f"{self.url}/api/{model}/", params=params, headers=headers, timeout=30, **kwargs)

    def post(self, model: str, data: Any = None, token: str | None = None) -> httpx.Response:
        headers = {"Auth-Token": token} if token else {}
        return httpx.post(f"{self.url}/api/{model}/", data=data, headers=headers, timeout=30)

    def processed(self, crash_id: str) -> dict[str, Any] | None:
        """The processed crash as storage holds it (read from the site's storage, not through the API)."""
        from crashcart.errors import CrashNotFound
        from crashcart.settings import load_settings
        from crashcart.storage import Role, open_storage

        storage = open_storage(load_settings(environ=self.env), Role.WEBAPP)
        try:
            return storage.get_processed_crash(crash_id)
        except CrashNotFound:
            return None
        finally:
            storage.close()

    def wait_indexed(self, crash_ids: list[str], timeout: float = 180.0, runs: int = 1) -> None:
        """Wait until every crash is processed ``runs`` times (``processor_history``) and in the index."""
        deadline = time.monotonic() + timeout
        pending = list(crash_ids)
        while pending:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            if time.monotonic() > deadline:
                raise AssertionError(f"not processed and indexed within {timeout} s: {pending}\n{self.log()}")
            still = []
            for crash_id in pending:
                processed = self.processed(crash_id)
                history = (processed or {}).get("processor_history") or []
                if len(history) < runs or not self._indexed(crash_id):
                    still.append(crash_id)
            pending = still
            if pending:
                time.sleep(0.3)

    def _indexed(self, crash_id: str) -> bool:
        response = self.get("CrashVerify", {"crash_id": crash_id})
        return response.status_code == 200 and response.json()["elasticsearch_crash"] is True

    # --- accounts ---------------------------------------------------------------------------------------

    def make_token(self, user: str, permissions: tuple[str, ...]) -> str:
        """A user with ``permissions`` and a token carrying them, made with the real CLI."""
        perms = ",".join(permissions)
        created = self.cli("user", "create", user, *(["--permissions", perms] if perms else []))
        assert created.returncode == 0, created.stderr
        made = self.cli("token", "create", user, *(["--permissions", perms] if perms else []))
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1].strip()
        assert len(token) >= 32 and " " not in token, made.stdout
        self.tokens[user] = token
        return token

    def make_user(self, user: str, permissions: tuple[str, ...], password: str) -> None:
        """A user who signs in to the pages with ``password``, made with the real CLI."""
        perms = ["--permissions", ",".join(permissions)] if permissions else []
        created = self.cli("user", "create", user, *perms, "--password-stdin", stdin=password + "\n")
        assert created.returncode == 0, created.stderr

    @contextlib.contextmanager
    def signed_in(self, user: str, password: str) -> Iterator[httpx.Client]:
        """A client signed in through the login form (CSRF cookie and token as a browser sends them)."""
        with httpx.Client(base_url=self.url, timeout=30, follow_redirects=False) as client:
            form = client.get("/login/")
            assert form.status_code == 200, form.text
            token = csrf_token(form.text)
            done = client.post(
                "/login/",
                data={"username": user, "password": password, "csrfmiddlewaretoken": token, "next": "/"},
                headers={"Referer": f"{self.url}/login/"},
            )
            assert done.status_code == 302, done.text
            yield client


def product_page(product: str) -> str:
    """The path of a product's page (Crash Stats' ``home/product/<product>``)."""
    return "/" + "/".join(("home", "product", product))


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page (what a browser posts back with it)."""
    return html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]


def crash_annotations(product: str, version: str, channel: str, build_id: str, install_time: int = 0) -> dict[str, str]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {
        "ProductName": product,
        "Version": version,
        "ReleaseChannel": channel,
        "BuildID": build_id,
        "CrashTime": str(now),
        "InstallTime": str(1_700_000_000 + install_time),
        **HOSTILE,
    }


#: The crashes every site holds: (product, version, channel, build id, dump fixture, extra dump?).
CRASH_PLAN: tuple[tuple[str, str, str, str, str, bool], ...] = (
    ("Firefox", "120.0", "release", "20231211093035", "linux-mini.dmp", True),
    ("Firefox", "120.0", "release", "20231211093035", "minidump2.dmp", False),
    ("Firefox", "121.0b3", "beta", "20231212101010", "pipeline-inlines-macos-segv.dmp", False),
    ("Firefox", "121.0b3", "beta", "20231212101010", "tiny-exe-fastfail.dmp", False),
    ("Thunderbird", "115.5.0", "release", "20231120111111", "thread_name_list.dmp", False),
    ("Thunderbird", "115.5.0", "release", "20231120111111", "linux-mini.dmp", False),
    ("Firefox", "120.0", "release", "20231211093035", "thread_name_list.dmp", False),
)


def populate(site: Site) -> None:
    """Submit ``CRASH_PLAN``, wait until every crash is processed and indexed, and make the tokens."""
    for n, (product, version, channel, build_id, dump, extra) in enumerate(CRASH_PLAN):
        dumps = {"upload_file_minidump": (MINIDUMPS / dump).read_bytes()}
        if extra:  # a second dump, as Firefox sends for a content process crash with the parent's dump
            dumps["upload_file_minidump_browser"] = (MINIDUMPS / "minidump2.dmp").read_bytes()
        # Installs shared by pairs of crashes, so a cardinality differs from a count.
        site.submit(crash_annotations(product, version, channel, build_id, install_time=n // 2), dumps)
    site.wait_indexed([c.crash_id for c in site.crashes])
    site.make_token("full", ALL_PERMISSIONS)
    site.make_token("nopii", ("view_rawdump", "reprocess_crashes"))


_SITES: dict[str, Site] = {}
_PG_DATABASES: list[str] = []
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def shared_site(base: Path, database: str = "sqlite") -> Site:
    """The session's site on ``database`` (``sqlite``: ``crashcart run``'s embedded default, or
    ``postgresql``: a fresh database on the local server), started and populated on first use."""
    site = _SITES.get(database)
    if site is not None:
        return site
    site = _started_site(base / f"site-{database}", database)
    try:
        populate(site)
    except BaseException:
        site.stop()
        raise
    _SITES[database] = site
    return site


def private_site(base: Path, name: str) -> Site:
    """A session's own ``crashcart run`` on SQLite named ``name``, started and empty: for tests whose crashes
    must not reach the shared site (which other modules count on holding ``CRASH_PLAN`` alone)."""
    key = f"private-{name}"
    site = _SITES.get(key)
    if site is None:
        site = _SITES[key] = _started_site(base / f"site-{key}", "sqlite")
    return site


def _started_site(data_dir: Path, database: str) -> Site:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")},
        "CRASHCART_DATA_DIR": str(data_dir),
        "CRASHCART_LOG_FORMAT": "json",
        # Each site's processor has its own status port: two sites (one per database) run at once.
        "CRASHCART_PROCESSOR_STATUS_PORT": str(free_port()),
        **RATE_LIMIT_ENV,
    }
    if database == "postgresql":
        env["CRASHCART_DATABASE_URL"] = _new_pg_database()
        env["CRASHCART_SECRET_KEY"] = secrets.token_hex(32)  # required off SQLite (web nodes share it)
    if not _SITES and not _PG_DATABASES:
        # Sites outlive any one fixture instance (a parametrised session fixture is torn down when its
        # parameter changes, while another module may still need the site), so they stop at exit.
        atexit.register(stop_shared_sites)
    site = Site(data_dir=data_dir, port=free_port(), env=env)
    site.start()
    return site


def _new_pg_database() -> str:
    import uuid

    import psycopg

    name = f"crashcart_api_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _PG_DATABASES.append(name)
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def stop_shared_sites() -> None:
    """Stop every site and drop the PostgreSQL databases made for them (at the end of the session)."""
    import psycopg

    while _SITES:
        _, site = _SITES.popitem()
        site.stop()
    while _PG_DATABASES:
        name = _PG_DATABASES.pop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def body_text(response: httpx.Response) -> str:
    """Everything a caller received, as text: headers and body (a JSON body decoded, so escapes don't hide)."""
    text = response.text
    with contextlib.suppress(ValueError):
        text += json.dumps(response.json(), ensure_ascii=False)
    return text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
