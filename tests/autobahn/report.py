#!/usr/bin/env python3
"""Helpers for tests/autobahn/run.sh (Python 3 standard library only).

Subcommands:
  summarize   judge Autobahn|Testsuite JSON reports strictly and print the tables
  free-port   print a free TCP port on 127.0.0.1
  listening   print the local addresses listening on PORT (exit 1 if none)
  ws-get      open a WebSocket to URL, print every text message received, close

Judgement, per case of index.json (strict):
  pass           behavior == "OK" and behaviorClose == "OK",
                 or behavior == "INFORMATIONAL" (only the suite's informational
                 cases, 7.1.6 and 7.13.x, produce it)
  failed         everything else: NON-STRICT, WRONG CODE, FAILED, UNCLEAN,
                 FAILED BY CLIENT, UNIMPLEMENTED (permessage-deflate is
                 implemented, so groups 12 and 13 must pass), and every case the
                 suite was asked to run that has no entry in the report
Harness errors (a process that failed or timed out, a missing report, a
missing agent) are listed too and each counts as one failure.
"""

import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time
from urllib.parse import urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def case_key(case_id):
    out = []
    for part in case_id.split("."):
        try:
            out.append((0, int(part), ""))
        except ValueError:
            out.append((1, 0, part))
    return out


def group_of(case_id):
    return case_id.split(".", 1)[0]


def judge(entry):
    """Return ("ok" | "unimplemented" | "failed") for one index.json entry."""
    behavior = entry.get("behavior")
    close = entry.get("behaviorClose")
    if behavior == "INFORMATIONAL":
        return "ok"
    if behavior == "OK" and close == "OK":
        return "ok"
    return "failed"


def load_role(role, outdir, expected_file, agent, errors):
    """Return {case_id: (verdict, behavior, behaviorClose)} for one role."""
    expected = []
    if expected_file:
        try:
            with open(expected_file) as f:
                expected = json.load(f)
        except (OSError, ValueError) as e:
            errors.append((role, "cannot read the expected case list %s: %s" % (expected_file, e)))

    index_path = os.path.join(outdir, "index.json")
    index = None
    try:
        with open(index_path) as f:
            index = json.load(f)
    except OSError:
        errors.append((role, "no report: %s does not exist" % index_path))
    except ValueError as e:
        errors.append((role, "report %s is not valid JSON: %s" % (index_path, e)))

    entries = {}
    if isinstance(index, dict):
        agents = sorted(index)
        if not agents:
            errors.append((role, "report has no agents at all"))
        elif agent:
            if agent not in index:
                errors.append((role, "report has no entry for agent %r (agents: %s)" % (agent, ", ".join(agents))))
            else:
                entries = dict(index[agent])
            for other in agents:
                if other != agent:
                    errors.append((role, "report has an unexpected agent %r (%d cases)" % (other, len(index[other]))))
        else:
            # Server role: the agent is whatever the server under test
            # reported (its Server header); read it from the report.
            primary = max(agents, key=lambda a: len(index[a]))
            entries = dict(index[primary])
            print("%s: agent in report: %s" % (role, primary))
            for other in agents:
                if other != primary:
                    errors.append((role, "report has a second agent %r (%d cases); merged" % (other, len(index[other]))))
                    for cid, e in index[other].items():
                        entries.setdefault(cid, e)
        if agents and not entries:
            errors.append((role, "report has no cases"))
    elif index is not None:
        errors.append((role, "report %s is not a JSON object" % index_path))

    results = {}
    for cid, entry in entries.items():
        verdict = judge(entry)
        behavior = entry.get("behavior")
        close = entry.get("behaviorClose")
        results[cid] = (verdict, behavior, close)

    # The suite's case list (expanded from the spec by the suite itself) is
    # authoritative; fall back to the report's keys if it is unavailable.
    for cid in expected:
        if cid not in results:
            results[cid] = ("failed", "MISSING", "MISSING")
    if expected:
        extra = sorted(set(results) - set(expected), key=case_key)
        if extra:
            errors.append((role, "report has cases that were not asked for: %s" % ", ".join(extra)))
    return results


def summarize(args):
    errors = [(role, msg) for role, msg in args.error]
    per_role = []
    for role, outdir, expected, agent in args.run:
        per_role.append((role, load_role(role, outdir, expected, agent, errors)))

    print()
    print("%-8s %-6s %6s %7s %14s" % ("role", "group", "ok", "failed", "unimplemented"))
    for role, results in per_role:
        groups = {}
        for cid, (verdict, _, _) in results.items():
            g = groups.setdefault(group_of(cid), {"ok": 0, "failed": 0, "unimplemented": 0})
            g[verdict] += 1
        for g in sorted(groups, key=case_key):
            c = groups[g]
            print("%-8s %-6s %6d %7d %14d" % (role, g, c["ok"], c["failed"], c["unimplemented"]))

    failures = []
    for role, results in per_role:
        missing = []
        for cid in sorted(results, key=case_key):
            verdict, behavior, close = results[cid]
            if verdict != "failed":
                continue
            if behavior == "MISSING":
                missing.append(cid)
            else:
                failures.append("  %s %s: behavior=%s behaviorClose=%s" % (role, cid, behavior, close))
        if missing:
            # One line for what can be hundreds of cases when a run dies.
            failures.append("  %s: %d case(s) missing from the report (behavior=MISSING behaviorClose=MISSING): %s"
                            % (role, len(missing), " ".join(missing)))
    if failures:
        print()
        print("failed cases:")
        for line in failures:
            print(line)
    if errors:
        print()
        print("harness errors:")
        for role, msg in errors:
            print("  %s: %s" % (role, msg))

    print()
    total_ok = 0
    total_failed = 0
    for role, results in per_role:
        ok = sum(1 for v in results.values() if v[0] == "ok")
        failed = sum(1 for v in results.values() if v[0] == "failed")
        failed += sum(1 for r, _ in errors if r == role)
        unimpl = sum(1 for v in results.values() if v[0] == "unimplemented")
        print("%s: %d passed, %d failed, %d unimplemented" % (role, ok, failed, unimpl))
        total_ok += ok
        total_failed += failed
    roles = set(r for r, _, _, _ in args.run)
    total_failed += sum(1 for r, _ in errors if r not in roles)
    sys.stdout.flush()
    print("autobahn: %d passed, %d failed" % (total_ok, total_failed))
    return 1 if total_failed else 0


def free_port(_args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


def _proc_listeners(port):
    """Local addresses in LISTEN state on port, from /proc/net/tcp{,6}."""
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4 or fields[3] != "0A":
                continue
            addr_hex, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(addr_hex)
            if len(raw) == 4:
                addr = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                addr = socket.inet_ntop(socket.AF_INET6, words)
            found.append(addr)
    return found


def listening(args):
    found = _proc_listeners(args.port)
    if not found and not os.path.exists("/proc/net/tcp"):
        # No procfs: fall back to a plain connect.
        try:
            socket.create_connection(("127.0.0.1", args.port), timeout=1).close()
            found = ["127.0.0.1"]
        except OSError:
            pass
    for addr in found:
        print(addr)
    return 0 if found else 1


def _recv_exact(sock, n, buf):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        buf += chunk
    return buf[:n], buf[n:]


def _send_frame(sock, opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(head + mask + body)


def ws_get(args):
    """Minimal RFC 6455 client: handshake, print text messages, close."""
    deadline = time.monotonic() + args.timeout
    u = urlsplit(args.url)
    if u.scheme != "ws":
        print("ws-get: only ws:// URLs are supported", file=sys.stderr)
        return 2
    host, port = u.hostname, u.port or 80
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.create_connection((host, port), timeout=args.timeout)
    try:
        sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)
        ).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed during the handshake")
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if len(lines[0].split()) < 2 or lines[0].split()[1] != "101":
            print("ws-get: handshake refused: %s" % lines[0], file=sys.stderr)
            return 1
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            print("ws-get: bad Sec-WebSocket-Accept", file=sys.stderr)
            return 1
        message = b""
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("ws-get timed out")
            h, buf = _recv_exact(sock, 2, buf)
            fin, opcode = h[0] & 0x80, h[0] & 0x0F
            if h[1] & 0x80:
                raise ConnectionError("server sent a masked frame")
            n = h[1] & 0x7F
            if n == 126:
                ext, buf = _recv_exact(sock, 2, buf)
                n = struct.unpack("!H", ext)[0]
            elif n == 127:
                ext, buf = _recv_exact(sock, 8, buf)
                n = struct.unpack("!Q", ext)[0]
            payload, buf = _recv_exact(sock, n, buf)
            if opcode == 0x8:
                _send_frame(sock, 0x8, payload[:2])
                return 0
            if opcode == 0x9:
                _send_frame(sock, 0xA, payload)
            elif opcode in (0x0, 0x1, 0x2):
                message += payload
                if fin:
                    print(message.decode("utf-8", "replace"))
                    sys.stdout.flush()
                    message = b""
    finally:
        sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    s = sub.add_parser("summarize")
    s.add_argument("--run", nargs=4, action="append", default=[],
                   metavar=("ROLE", "OUTDIR", "EXPECTED_JSON", "AGENT"),
                   help="a role's report dir, the suite's expanded case list, and the agent ('' = read from report)")
    s.add_argument("--error", nargs=2, action="append", default=[], metavar=("ROLE", "MESSAGE"))
    s.set_defaults(func=summarize)
    s = sub.add_parser("free-port")
    s.set_defaults(func=free_port)
    s = sub.add_parser("listening")
    s.add_argument("port", type=int)
    s.set_defaults(func=listening)
    s = sub.add_parser("ws-get")
    s.add_argument("url")
    s.add_argument("--timeout", type=float, default=10.0)
    s.set_defaults(func=ws_get)
    args = p.parse_args()
    if not getattr(args, "func", None):
        p.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
