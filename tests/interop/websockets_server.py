"""An independent echo server for hybi's client: Python's `websockets`
(permessage-deflate on, its default).

Usage: python websockets_server.py PORT
Serves on 127.0.0.1:PORT, echoes every message, prints the extensions it
agreed for each connection, and stops after the first connection closes
(or after 120 s).
"""
import asyncio
import sys

from websockets.asyncio.server import serve


async def main(port: int) -> None:
    done = asyncio.Event()

    async def echo(ws) -> None:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions", "(none)")
        print(f"websockets server: negotiated Sec-WebSocket-Extensions: {agreed}", flush=True)
        async for message in ws:
            await ws.send(message)
        print(f"websockets server: closed {ws.close_code}", flush=True)
        done.set()

    async with serve(echo, "127.0.0.1", port, max_size=None):
        print(f"websockets server: listening on 127.0.0.1:{port}", flush=True)
        await asyncio.wait_for(done.wait(), 120)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
