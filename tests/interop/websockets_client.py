"""Drive hybi's echo server with an independent client: Python's `websockets`.

Usage: python websockets_client.py ws://127.0.0.1:PORT/
Checks text, binary, a 1 MiB text and a 1 MiB binary message, ping/pong, and a
clean 1000 close. Prints one line per check and exits non-zero on failure.
"""
import asyncio
import os
import sys

from websockets.asyncio.client import connect


async def main(url: str) -> int:
    failures = 0

    def check(name: str, ok: bool) -> None:
        nonlocal failures
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not ok:
            failures += 1

    async with connect(url, max_size=None, open_timeout=10) as ws:
        await ws.send("hello, κόσμε")
        check("text echo", await ws.recv() == "hello, κόσμε")
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
        pong = await ws.ping(b"are you there")
        latency = await asyncio.wait_for(pong, 5)
        check("ping answered with pong", latency >= 0)
        await ws.close(1000, "bye")
        check("clean close code 1000", ws.close_code == 1000)
        check("close reason echoed or empty", ws.close_reason in ("", "bye"))
    print(f"interop: {8 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9001/")))
