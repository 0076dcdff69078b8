"""The web application as a real server process, on SQLite and PostgreSQL: tokens, permissions, the API
dispatcher's answers, rate limits, CORS and security headers (the test models are in ``tests.web.models``)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.helpers.web import WebServer, crashcart, make_token
from tests.web.conftest import Site
from tests.web.models import SECRET_CRASH_DATA


def sql(site: Site, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the site's database (``%s`` placeholders) and return its rows."""
    if site.database == "sqlite":
        with sqlite3.connect(site.database_url.removeprefix("sqlite://")) as conn:
            return conn.execute(statement.replace("%s", "?"), params).fetchall()
    import psycopg

    with psycopg.connect(site.database_url, autocommit=True) as conn:
        cursor = conn.execute(statement.encode().decode(), params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def get(
    site: Site, path: str, token: str | None = None, headers: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    sent = {**(headers or {}), **({"Auth-Token": token} if token is not None else {})}
    return httpx.get(site.server.url + path, headers=sent, timeout=10, **kwargs)


def new_user(site: Site, *permissions: str) -> tuple[str, str]:
    """A new user with ``permissions`` and a token carrying all of them: (user name, token)."""
    name = f"u{uuid.uuid4().hex[:10]}"
    return name, make_token(name, permissions, data_dir=site.data_dir, env=site.env)


def test_a_token_carries_its_permissions_and_its_user(site: Site) -> None:
    _, token = new_user(site, "view_pii", "view_rawdump")
    body = get(site, "/api/TestEcho/?word=hi", token).json()
    assert body["permissions"] == ["view_pii", "view_rawdump"]
    assert body["user_id"] is not None and body["token_id"] is not None
    assert get(site, "/api/TestPrivate/", token).json() == {"ok": True}
    anonymous = get(site, "/api/TestEcho/?word=hi").json()
    assert (anonymous["permissions"], anonymous["user_id"], anonymous["token_id"]) == ([], None, None)


def test_the_key_is_stored_only_as_its_hash(site: Site) -> None:
    import hashlib

    _, token = new_user(site, "view_pii")
    rows = sql(site, "SELECT public_id, key_hash FROM accounts_token")
    assert (token[:8], hashlib.sha256(token.encode()).hexdigest()) in rows
    everything = repr(sql(site, "SELECT * FROM accounts_token"))
    assert token not in everything and token[8:] not in everything
    if site.database == "sqlite":  # the whole database file, every table and page
        assert token[8:].encode() not in (site.data_dir / "crashcart.sqlite3").read_bytes()


def test_a_token_that_matches_nothing_is_refused_with_socorros_message(site: Site) -> None:
    for key in ["0" * 40, "short", "x" * 4000, "é" * 40]:
        response = httpx.get(site.server.url + "/api/TestEcho/?word=hi", headers={"Auth-Token": key.encode()})
        assert response.status_code == 403, key
        assert response.json() == {"error": "API Token not matched"}


def test_an_expired_token_is_refused(site: Site) -> None:
    _, token = new_user(site, "view_pii")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    sql(site, "UPDATE accounts_token SET expires = %s WHERE public_id = %s", (past.isoformat(), token[:8]))
    response = get(site, "/api/TestEcho/?word=hi", token)
    assert response.status_code == 403
    assert response.json() == {"error": "API Token found but expired"}


def test_a_revoked_token_is_refused(site: Site) -> None:
    _, token = new_user(site)
    assert get(site, "/api/TestEcho/?word=hi", token).status_code == 200
    revoked = crashcart("token", "revoke", token[:8], data_dir=site.data_dir, env=site.env)
    assert revoked.returncode == 0, revoked.stderr
    response = get(site, "/api/TestEcho/?word=hi", token)
    assert (response.status_code, response.json()) == (403, {"error": "API Token not matched"})


def test_the_token_of_an_inactive_user_is_refused(site: Site) -> None:
    name, token = new_user(site)
    sql(site, "UPDATE auth_user SET is_active = %s WHERE username = %s", (False, name))
    response = get(site, "/api/TestEcho/?word=hi", token)
    assert (response.status_code, response.json()) == (403, {"error": "User of API token not active"})


def test_a_user_losing_a_permission_takes_it_from_the_token(site: Site) -> None:
    name, token = new_user(site, "view_pii", "reprocess_crashes")
    (user_id,) = sql(site, "SELECT id FROM auth_user WHERE username = %s", (name,))[0]
    (perm_id,) = sql(site, "SELECT id FROM auth_permission WHERE codename = %s", ("view_pii",))[0]
    sql(site, "DELETE FROM auth_user_user_permissions WHERE user_id = %s AND permission_id = %s", (user_id, perm_id))
    assert get(site, "/api/TestEcho/?word=hi", token).json()["permissions"] == ["reprocess_crashes"]
    response = get(site, "/api/TestPrivate/", token)
    assert response.status_code == 403
    assert response.json() == {
        "error": "Use of this endpoint requires the 'View Personal Identifiable Information' permission"
    }


def test_a_permission_given_through_a_group_counts(site: Site) -> None:
    name, token = new_user(site)
    sql(site, "INSERT INTO auth_group (name) VALUES (%s)", (f"hackers-{name}",))
    (group_id,) = sql(site, "SELECT id FROM auth_group WHERE name = %s", (f"hackers-{name}",))[0]
    (user_id,) = sql(site, "SELECT id FROM auth_user WHERE username = %s", (name,))[0]
    (perm_id,) = sql(site, "SELECT id FROM auth_permission WHERE codename = %s", ("view_pii",))[0]
    sql(site, "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)", (group_id, perm_id))
    sql(site, "INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", (user_id, group_id))
    made = crashcart("token", "create", name, "--permissions", "view_pii", data_dir=site.data_dir, env=site.env)
    assert made.returncode == 0, made.stderr
    assert get(site, "/api/TestPrivate/", made.stdout.splitlines()[-1]).status_code == 200
    assert get(site, "/api/TestPrivate/", token).status_code == 403  # the older token never asked for it


def test_a_superusers_token_has_what_it_was_given(site: Site) -> None:
    name = f"root{uuid.uuid4().hex[:8]}"
    created = crashcart("user", "create", name, "--superuser", data_dir=site.data_dir, env=site.env)
    assert created.returncode == 0, created.stderr
    made = crashcart(
        "token", "create", name, "--permissions", "view_pii,upload_symbols", data_dir=site.data_dir, env=site.env
    )
    assert made.returncode == 0, made.stderr
    body = get(site, "/api/TestEcho/?word=x", made.stdout.splitlines()[-1]).json()
    assert body["permissions"] == ["upload_symbols", "view_pii"]


def test_dispatcher_errors_have_socorros_shapes(site: Site) -> None:
    assert get(site, "/api/a/b/").json() == {"error": "Not found"}  # no URL matches: still JSON under /api/
    assert get(site, "/api/NoSuchModel/").json() == {"error": "No service called 'NoSuchModel'"}
    assert get(site, "/api/NoSuchModel/").status_code == 404
    missing = get(site, "/api/TestEcho/")
    assert (missing.status_code, missing.json()) == (400, {"errors": {"word": ["This field is required."]}})
    not_a_number = get(site, "/api/TestEcho/?word=a&count=1.5")
    assert not_a_number.json() == {"errors": {"count": ["Enter a whole number."]}}
    assert get(site, "/api/TestEcho/?word=a&count=99999999999999999999999").status_code == 400
    wrong_method = get(site, "/api/TestReprocess/")
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"error": "Method not allowed"})
    posted = httpx.post(site.server.url + "/api/TestEcho/", data={"word": "x"})
    assert posted.status_code == 405  # POST on a GET model: no CSRF 403 in the way
    bad = get(site, "/api/TestBadArgument/")
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "Bad request: BadArgumentError: Bad value for parameter(s) '_results_number'"},
    )


def test_params_are_typed_lists_repeat_and_unknown_ones_are_ignored(site: Site) -> None:
    response = get(site, "/api/TestEcho/?word=a&word=b&count=-3&flag=false&items=x&items=y&other=1")
    assert response.status_code == 200
    assert response.json()["params"] == {"word": "b", "count": -3, "flag": False, "items": ["x", "y"]}
    assert response.headers["cache-control"] == "private, max-age=300"
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    pretty = get(site, "/api/TestEcho/?word=a&pretty=print")
    assert pretty.text.startswith('{\n  "params"')


def test_post_forms_with_repeated_keys_and_the_endpoint_permission(site: Site) -> None:
    _, token = new_user(site, "reprocess_crashes")
    url = site.server.url + "/api/TestReprocess/"
    body = "crash_ids=a&crash_ids=b%3Adefault"
    form = {"content-type": "application/x-www-form-urlencoded"}
    anonymous = httpx.post(url, content=body, headers=form)
    assert anonymous.status_code == 403
    assert anonymous.json() == {"error": "Use of this endpoint requires the 'Reprocess Crashes' permission"}
    allowed = httpx.post(url, content=body, headers={**form, "Auth-Token": token})
    assert (allowed.status_code, allowed.json()) == (200, {"ids": ["a", "b:default"]})
    assert "cache-control" not in allowed.headers  # cache_seconds = 0


def test_binary_answers_need_their_permission_after_the_lookup(site: Site) -> None:
    _, without = new_user(site, "view_pii")
    _, with_dumps = new_user(site, "view_rawdump")
    assert get(site, "/api/TestDump/?id=unknown", without).status_code == 404  # not found before forbidden
    refused = get(site, "/api/TestDump/?id=known", without)
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "Binary response requires permissions: View Raw Dumps"},
    )
    dump = get(site, "/api/TestDump/?id=known", with_dumps)
    assert dump.status_code == 200 and dump.content == b"MDMP\x00\x01"
    assert dump.headers["content-type"] == "application/octet-stream"
    assert dump.headers["content-disposition"] == 'attachment; filename="knownX-Injected: 1.dmp"'
    assert "x-injected" not in dump.headers


def test_a_failing_model_is_a_500_that_says_nothing_of_the_crash(site: Site) -> None:
    response = get(site, "/api/TestBoom/")
    assert (response.status_code, response.json()) == (500, {"error": "Internal server error"})
    assert SECRET_CRASH_DATA not in response.text
    assert "Traceback" not in response.text


def test_api_listing_shows_what_the_caller_may_use(site: Site) -> None:
    _, token = new_user(site, "view_pii")
    anonymous = {m["name"] for m in get(site, "/api/?format=json").json()["models"]}
    assert "TestEcho" in anonymous and "TestPrivate" not in anonymous and "TestReprocess" not in anonymous
    with_pii = {m["name"] for m in get(site, "/api/", token, params={"format": "json"}).json()["models"]}
    assert "TestPrivate" in with_pii and "TestReprocess" not in with_pii
    page = get(site, "/api/")
    assert page.headers["content-type"].startswith("text/html")
    assert "TestEcho" in page.text and "TestPrivate" not in page.text
    assert "Super Search&#x27;s BadArgumentError." in page.text  # escaped
    assert "<script" not in page.text and "style=" not in page.text


def test_openapi_describes_every_registered_model(site: Site) -> None:
    from openapi_spec_validator import validate

    import tests.web.models  # noqa: F401
    from crashcart.web.api.base import REGISTRY

    response = get(site, "/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert set(document["paths"]) >= {f"/api/{name}/" for name in REGISTRY}
    echo = document["paths"]["/api/TestEcho/"]["get"]
    assert {p["name"]: p["schema"]["type"] for p in echo["parameters"]} == {
        "word": "string",
        "count": "integer",
        "flag": "boolean",
        "items": "array",
    }
    assert set(document["paths"]["/api/TestReprocess/"]) == {"post"}
    form = document["paths"]["/api/TestReprocess/"]["post"]["requestBody"]["content"]
    assert form["application/x-www-form-urlencoded"]["schema"]["required"] == ["crash_ids"]


def test_cors_on_the_api_only(site: Site) -> None:
    preflight = httpx.options(
        site.server.url + "/api/TestEcho/",
        headers={"Origin": "https://example.org", "Access-Control-Request-Headers": "auth-token"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Auth-Token" in preflight.headers["access-control-allow-headers"]
    assert get(site, "/api/TestEcho/?word=a").headers["access-control-allow-origin"] == "*"
    assert get(site, "/api/NoSuchModel/").headers["access-control-allow-origin"] == "*"
    assert get(site, "/api/TestEcho/?word=a", "0" * 40).headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in get(site, "/").headers


def test_security_headers_on_pages_api_and_early_refusals(site: Site) -> None:
    for response in (get(site, "/"), get(site, "/api/"), get(site, "/api/TestEcho/?word=a", "0" * 40)):
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"


def test_an_unknown_host_is_refused_but_status_answers_any_host(site: Site) -> None:
    assert get(site, "/api/", headers={"Host": "evil.example"}).status_code == 400
    assert get(site, "/__lbheartbeat__", headers={"Host": "10.0.0.7"}).status_code == 200
    assert get(site, "/__version__").json()["source"] == "crashcart"


def test_tokens_never_reach_the_log(site: Site) -> None:
    _, token = new_user(site, "view_pii")
    get(site, "/api/TestPrivate/", token)
    get(site, "/api/TestEcho/?word=x", token[:-1] + "0")
    get(site, "/api/TestBoom/", token)
    log = site.server.log()
    assert "API token refused" in log  # the log is there and speaks of tokens
    assert token not in log and token[8:] not in log and token[8:-1] not in log


@pytest.mark.slow
def test_rate_limits_per_ip_and_per_token_with_retry_after(tmp_path: Any) -> None:
    env = {"CRASHCART_API_RATE_LIMIT_ANONYMOUS": "3", "CRASHCART_API_RATE_LIMIT_TOKEN": "5"}
    token = make_token("limited", [], data_dir=tmp_path, env=env)
    with WebServer(tmp_path, env) as server:
        url = server.url + "/api/TestEcho/?word=x"
        if time.time() % 60 > 50:  # the counts are per minute: start the first window well inside one
            time.sleep(61 - time.time() % 60)
        statuses = [httpx.get(url).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = httpx.get(url)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["access-control-allow-origin"] == "*"
        assert "at most 3 a minute" in limited.json()["error"]
        with_token = [httpx.get(url, headers={"Auth-Token": token}).status_code for _ in range(6)]
        assert with_token.count(429) >= 1 and with_token[0] == 200  # its own budget of 5
        bad_keys = [httpx.get(url, headers={"Auth-Token": "f" * 40}).status_code for _ in range(2)]
        assert bad_keys == [429, 429]  # guessed keys count against the address's budget, already spent
        assert httpx.get(server.url + "/").status_code == 200  # pages are not the API's budget


def test_request_bodies_are_bounded_and_malformed_forms_are_400_json(site: Site) -> None:
    _, token = new_user(site, "reprocess_crashes")
    url = site.server.url + "/api/TestReprocess/"
    form = {"content-type": "application/x-www-form-urlencoded", "Auth-Token": token}
    too_big = b"crash_ids=" + b"a" * (4 * 1024 * 1024)
    declared = httpx.post(url, content=too_big, headers=form, timeout=30)
    assert declared.status_code == 413 and "at most 4194304 bytes" in declared.json()["error"]

    def chunks() -> Any:
        for _ in range(80):
            yield b"a" * 65536  # 5 MiB, no Content-Length

    streamed = httpx.post(url, content=chunks(), headers=form, timeout=30)
    assert streamed.status_code == 413
    many = httpx.post(url, content="&".join(["crash_ids=a"] * 25_000), headers=form)
    assert (many.status_code, many.json()) == (400, {"error": "Bad request: TooManyFieldsSent"})
    broken = httpx.post(url, content=b"abc", headers={**form, "content-type": "multipart/form-data"})
    assert broken.status_code == 400 and broken.json()["error"].startswith("Bad request: ")
    assert get(site, "/api/TestEcho/?word=a").status_code == 200  # the server is fine afterwards
