"""Drive hybi's echo server with an independent client: Python's `websockets`.

Usage: python websockets_client.py ws://127.0.0.1:PORT/ [--ca CERT.pem]
(with --ca, a wss:// URL whose certificate CERT.pem vouches for)
With permessage-deflate (websockets' default) and then without: checks text,
multi-byte text, binary, a 1 MiB text and a 1 MiB binary message, a 3 MiB
message (chunked on the server), a fragmented message, ping/pong, and a clean
1000 close. Prints the negotiated extensions, one line per check, and exits
non-zero on failure.
"""
import asyncio
import os
import ssl
import sys

from websockets.asyncio.client import connect


TLS = None


async def main(url: str) -> int:
    failures = 0

    def check(name: str, ok: bool) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not ok:
            check.failures += 1

    check.failures = 0

    for compression in ("deflate", None):
        failures += await session(url, compression, check)
    print(f"interop: {2 * CHECKS - failures} passed, {failures} failed")
    return 1 if failures else 0


CHECKS = 11


async def session(url: str, compression, check) -> int:
    before = check.failures
    async with connect(url, max_size=None, open_timeout=10, compression=compression, ssl=TLS) as ws:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions")
        print(f"negotiated (compression={compression}): Sec-WebSocket-Extensions: {agreed or '(none)'}")
        check("permessage-deflate agreed as offered",
              (agreed or "").startswith("permessage-deflate") == (compression == "deflate"))
        await ws.send("hello, κόσμε")
        check("text echo", await ws.recv() == "hello, κόσμε")
        multi = "κόσμε ✓ 😀 " * 5000
        await ws.send(multi)
        check("multi-byte text echo", await ws.recv() == multi)
        payload = os.urandom(1000)
        await ws.send(payload)
        check("binary echo", await ws.recv() == payload)
        big_text = ("€uro-" * 209716)[: 1 << 20]
        await ws.send(big_text)
        check("1 MiB text echo", await ws.recv() == big_text)
        big_bin = os.urandom(1 << 20)
        await ws.send(big_bin)
        check("1 MiB binary echo", await ws.recv() == big_bin)
        big_bin = os.urandom(3 << 20)
        await ws.send(big_bin)
        check("3 MiB binary echo (chunked)", await ws.recv() == big_bin)
        pieces = ["fragmented ✓ " * 1000, "second piece ", "last"]
        await ws.send(pieces)
        check("fragmented text echo", await ws.recv() == "".join(pieces))
        pong = await ws.ping(b"are you there")
        latency = await asyncio.wait_for(pong, 5)
        check("ping answered with pong", latency >= 0)
        await ws.close(1000, "bye")
        check("clean close code 1000", ws.close_code == 1000)
        check("close reason echoed or empty", ws.close_reason in ("", "bye"))
    return check.failures - before


if __name__ == "__main__":
    if "--ca" in sys.argv:
        TLS = ssl.create_default_context(cafile=sys.argv[sys.argv.index("--ca") + 1])
        print(f"TLS: trusting {sys.argv[sys.argv.index('--ca') + 1]} only")
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9001/")))
