"""Links from a frame's source file to the file at the build's revision, on the forge that holds it.

Symbol files written with source indexing name a file as ``<vcs>:<host>/<repository>:<path>:<revision>``
(Mozilla's convention: ``hg:hg.mozilla.org/mozilla-central:dom/base/Element.cpp:2b6c…``,
``git:github.com/rust-lang/rust:library/core/src/panicking.rs:90b35a…``); those link to the forge's view of
that file at that revision. Other paths link only where the deployment maps a path prefix to a URL template
(``repositories``: ``{"/builds/worker/checkouts/app/": "https://github.com/org/app/blob/main/{path}#L{line}"}``).

Pure and conservative: the result is an ``https://`` URL built from parts checked to be plain (no scheme, no
spaces, no ``..``), or None. A file name is crash data; a link it could steer to another site or to a
``javascript:`` URL would be worse than no link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

_HOST = r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_REPO = r"[A-Za-z0-9._~/-]+"
_REVISION = r"[0-9A-Za-z._-]{1,80}"
_INDEXED = re.compile(rf"(?P<vcs>hg|git):(?P<host>{_HOST})/(?P<repo>{_REPO}):(?P<path>[^:\s]+):(?P<rev>{_REVISION})")
_SAFE_PATH = re.compile(r"[A-Za-z0-9._~/+@-]+")


def source_url(file: str, line: int | None, repositories: Mapping[str, str]) -> str | None:
    """The URL of ``file`` (at ``line``) for a frame, or None."""
    if not file or len(file) > 1_000:
        return None
    found = _INDEXED.fullmatch(file)
    if found is not None:
        return _indexed(found, line)
    for prefix, template in repositories.items():
        if prefix and file.startswith(prefix):
            path = file[len(prefix) :]
            if not _plain_path(path) or not template.startswith("https://"):
                return None
            return template.replace("{path}", quote(path)).replace("{line}", str(line or 1))
    return None


def _plain_path(path: str) -> bool:
    return bool(_SAFE_PATH.fullmatch(path)) and ".." not in path.split("/") and not path.startswith("/")


def _indexed(found: re.Match[str], line: int | None) -> str | None:
    host, repo, path, rev = found["host"], found["repo"].strip("/"), found["path"], found["rev"]
    if not _plain_path(path) or ".." in repo.split("/"):
        return None
    path = quote(path)
    if found["vcs"] == "hg":
        return f"https://{host}/{repo}/file/{rev}/{path}" + (f"#l{line}" if line else "")
    if host == "github.com":
        return f"https://{host}/{repo}/blob/{rev}/{path}" + (f"#L{line}" if line else "")
    if host == "gitlab.com" or host.startswith("gitlab."):
        return f"https://{host}/{repo}/-/blob/{rev}/{path}" + (f"#L{line}" if line else "")
    return None
