"""Socorro's API models (``/api/<Model>/``), one module per family; importing this package registers them all.

The dispatcher (``crashcart.web.api.views``) owns HTTP: parameter parsing, whole-endpoint permissions, errors
and caching headers. A model here only turns validated parameters into Socorro's response shape, reading
through ``APIContext``, and decides what a caller may see of each document.
"""

from crashcart.web.api.endpoints import bugs, crashes, misc, reprocessing, supersearch

__all__ = ["bugs", "crashes", "misc", "reprocessing", "supersearch"]
