"""Keep secrets out of everything Crashcart prints: logs, start-up errors, ``crashcart config``.

One function, ``redact``, does it for any text: the password of every URL written in it (``scheme://user:
password@host``, also inside a list of URLs or in a library's exception message) becomes ``****``, and so does
each known secret (a token, an S3 secret key, a password) wherever it appears. The settings know the secrets
(``Settings.secret_values``); the logging set-up and the command line pass them in. This module imports
nothing of Crashcart, so every layer may use it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

MASK = "****"

# ``scheme://user:password@``: the password runs to the last ``@`` before the host, so an unencoded ``@`` in it
# is masked too; whitespace, a quote or a slash ends a URL in free text.
_USERINFO_RE = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"<>]*:)(?P<password>[^\s/'\"<>]*)@")

MIN_SECRET_LENGTH = 4
"""A known secret shorter than this is masked only where it stands as a URL's password: replacing every
occurrence of ``ab`` in a log would make the log unreadable and protect little."""


def passwords_in(text: str) -> list[str]:
    """The password of every credentialed URL in ``text`` (as written, and percent-decoded)."""
    found: list[str] = []
    for match in _USERINFO_RE.finditer(text):
        password = match.group("password")
        if password:
            found.extend({password, unquote(password)})
    return found


def secret_forms(secrets: Iterable[str]) -> frozenset[str]:
    """Each secret in every spelling it may be printed in: as given, percent-encoded and decoded, JSON-escaped
    (a JSON log line escapes quotes and backslashes) and ``repr``-escaped."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, unquote(secret), quote(secret, safe="")}:
            forms.update({form, json.dumps(form)[1:-1], json.dumps(form, ensure_ascii=False)[1:-1], repr(form)[1:-1]})
    return frozenset(form for form in forms if len(form) >= MIN_SECRET_LENGTH)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL's password and every one of ``secrets`` replaced by ``****``.

    ``secrets`` should come from ``secret_forms`` when the same set is used often (a log handler); plain
    values work too.
    """
    text = _USERINFO_RE.sub(lambda m: f"{m.group('head')}{MASK}@" if m.group("password") else m.group(0), text)
    forms = secrets if isinstance(secrets, frozenset) else secret_forms(secrets)
    # Longest first, so a secret that contains another is masked whole.
    for form in sorted(forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, MASK)
    return text


def mask_url(url: str) -> str:
    """Hide the password of a URL, or of each URL in a list (``amqp://user:secret@host`` → ``amqp://user:****@host``)."""
    return redact(url)
