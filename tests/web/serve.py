"""``python -m tests.web.serve PORT``: ``crashcart web`` in one process, with the tests' API models registered.

One worker, so uvicorn runs the app in this process and the registrations of ``tests.web.models`` hold.
"""

from __future__ import annotations

import sys

import tests.web.models  # noqa: F401  (registers the test models)
from crashcart.logs import setup_logging
from crashcart.settings import load_settings
from crashcart.web.server import serve_web


def main(port: int) -> None:
    settings = load_settings()
    setup_logging(settings.log_format, settings.log_level, secrets=settings.secret_values())
    serve_web(settings, "127.0.0.1", port, workers=1)


if __name__ == "__main__":
    main(int(sys.argv[1]))
