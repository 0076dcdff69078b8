"""Crashcart: a self-hostable crash-ingestion pipeline."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crashcart")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
