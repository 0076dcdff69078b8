"""``python -m tests.web.router_scenario DATA_DIR``: ``crashcart run``'s router in one fresh process.

Submits a crash through the router and checks that Django was not imported for it; then asks for the API,
which must load the web application (and migrate) on that first request. Prints ``ok``.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

from crashcart.collector.app import build_collector
from crashcart.settings import load_settings
from crashcart.web.router import RunRouter

BODY = (
    b'--b\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\nTest\r\n'
    b'--b\r\nContent-Disposition: form-data; name="Version"\r\n\r\n1.0\r\n'
    b'--b\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="d.dmp"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\nMDMP" + bytes(64) + b"\r\n--b--\r\n"
)


async def main(data_dir: str) -> None:
    settings = load_settings(environ={}, data_dir=data_dir)
    collector = build_collector(settings)
    router = RunRouter(collector, settings)
    transport = httpx.ASGITransport(app=router)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        submitted = await client.post(
            "/submit", content=BODY, headers={"content-type": "multipart/form-data; boundary=b"}
        )
        assert submitted.status_code == 200 and submitted.text.startswith("CrashID=bp-"), submitted.text
        assert (await client.get("/__lbheartbeat__")).status_code == 200
        assert not [name for name in sys.modules if name == "django" or name.startswith("django.")]
        listing = await client.get("/api/", params={"format": "json"})
        assert listing.status_code == 200, listing.text
        assert "models" in listing.json()
        assert "django" in sys.modules
        unknown = await client.get("/api/Nope/")
        assert unknown.json() == {"error": "No service called 'Nope'"}
    collector.close()
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
