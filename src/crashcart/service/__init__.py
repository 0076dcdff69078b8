"""Process plumbing every server role shares: health checks, the status endpoints, and start-up verification.

A server role (collector, processor, web app, cron runner) is built by its own composition root, which hands
this package an explicit list of checks (never discovered with ``hasattr``: Antenna's duck-typed heartbeat
never reached its storage check). What the roles then share:

* ``health``: ``Check`` and ``Heartbeat``, which runs the checks at once with a time limit and turns them into
  Dockerflow's ``{"errors": [...]}`` document and a 200 or 503;
* ``status``: ``Status``, the four endpoints (``/__lbheartbeat__``, ``/__heartbeat__``, ``/__version__``,
  ``/metrics``) as framework-neutral responses, the version document and the metrics rendering;
* ``http``: the same endpoints served from an ASGI app (the collector) or a small threaded HTTP server (the
  processor's status port); a Django view wraps ``Status.respond`` the same way;
* ``startup``: opening storage and queue for a role and checking them once at start, without refusing to
  start when one is down (the heartbeat reports it, and the role is ready the moment it returns).
"""

from __future__ import annotations

from crashcart.service.health import Check, Heartbeat, HeartbeatResult
from crashcart.service.startup import Backends, open_backends, verify_at_start
from crashcart.service.status import Response, Status, version_document

__all__ = [
    "Backends",
    "Check",
    "Heartbeat",
    "HeartbeatResult",
    "Response",
    "Status",
    "open_backends",
    "verify_at_start",
    "version_document",
]
