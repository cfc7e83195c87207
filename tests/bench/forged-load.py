#!/usr/bin/env python3
"""forged-load - a flood of forged feedback codes at RCPT, through Postfix.

Sends COUNT recipients CODE@DOMAIN over SESSIONS concurrent SMTP sessions
to 127.0.0.1:PORT (loopback only): EHLO, optional XCLIENT, then
transactions of PER_TXN pipelined RCPT TO (MAIL FROM:<> first, RSET
after). Codes are drawn from these kinds, in turn:

  random      18 random characters of the code alphabet
  mutated     a valid code (made with the signing key) with one character
              changed
  domain      a code with a good MAC for another feedback domain
  expired     a code with a good MAC, dated 40 days ago (needs the key)
  unknownkey  a well-formed code under a key id not in the key file
  malformed   wrong length or characters outside the alphabet

Without --key-file the kinds that need the key are left out. Counts every
reply; prints one JSON object (attempts, replies by code, accepted, rate).
Exit status 0 only if every RCPT got 550 5.1.1. Bounded: --count and
--time-limit (seconds) both stop the run.
"""
import argparse
import asyncio
import hashlib
import hmac
import json
import random
import secrets
import sys
import time

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def make_code(kid, secret, day_offset, domain, now=None):
    """A code as milter/codec.c makes them (see tests/e2e/inbound.sh)."""
    now = time.time() if now is None else now
    day = (int(now) // 86400 + day_offset) % 1024
    rid = secrets.randbelow(1 << 35)
    msg = domain.lower().encode() + b"\0" + bytes([kid]) + \
        day.to_bytes(2, "big") + rid.to_bytes(5, "big")
    mac = hmac.new(secret, msg, hashlib.sha256).digest()[:5]
    v = kid << 85 | day << 75 | rid << 40 | int.from_bytes(mac, "big")
    return "".join(ALPHABET[v >> (5 * (17 - i)) & 31] for i in range(18))


def read_keys(path):
    """[(id, secret)] from a key file; the last one signs."""
    keys = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            kid, hexsecret = line.split()[:2]
            keys.append((int(kid), bytes.fromhex(hexsecret)))
    return keys


class Codes:
    def __init__(self, domain, keys, rng):
        self.domain = domain
        self.rng = rng
        self.kinds = ["random", "unknownkey", "malformed"]
        self.keys = keys
        if keys:
            self.kid, self.secret = keys[-1]
            self.kinds += ["mutated", "domain", "expired"]
        known = {k for k, _ in keys}
        self.other_kid = next(k for k in range(32) if k not in known)
        self.i = 0

    def next(self):
        kind = self.kinds[self.i % len(self.kinds)]
        self.i += 1
        r = self.rng
        if kind == "random":
            code = "".join(r.choice(ALPHABET) for _ in range(18))
        elif kind == "unknownkey":
            code = make_code(self.other_kid, r.randbytes(32), 0, self.domain)
        elif kind == "malformed":
            n = r.choice([1, 17, 19, 30])
            # letters outside the alphabet, upper case, '_' (but a valid
            # SMTP local part, so that Postfix passes it to the milter)
            code = r.choice(ALPHABET) + "".join(
                r.choice(ALPHABET + "ilouXYZ_") for _ in range(n - 1))
        elif kind == "mutated":
            good = make_code(self.kid, self.secret, 0, self.domain)
            pos = r.randrange(18)
            c = r.choice([a for a in ALPHABET if a != good[pos]])
            code = good[:pos] + c + good[pos + 1:]
        elif kind == "domain":
            code = make_code(self.kid, self.secret, 0, "other." + self.domain)
        else:  # expired
            code = make_code(self.kid, self.secret, -40, self.domain)
        return kind, code


class Stats:
    def __init__(self):
        self.sent = 0
        self.replies = {}
        self.accepted = 0
        self.by_kind = {}
        self.bad = []
        self.sessions = 0
        self.errors = 0


async def read_reply(reader):
    """One SMTP reply: (code, last line text)."""
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line.decode(errors="replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            break
    return lines[-1][:3], lines[-1][4:]


async def command(reader, writer, cmd, want):
    writer.write(cmd.encode() + b"\r\n")
    await writer.drain()
    code, text = await read_reply(reader)
    if code != want:
        raise RuntimeError("%s: %s %s" % (cmd.split()[0], code, text))
    return text


async def session(args, codes, stats, budget, deadline):
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    try:
        await read_reply(reader)
        await command(reader, writer, "EHLO load.e2e.test", "250")
        if args.xclient:
            await command(reader, writer, "XCLIENT ADDR=%s NAME=%s" %
                          (args.xclient, args.xclient_name), "220")
            await command(reader, writer, "EHLO %s" % args.xclient_name, "250")
        for _ in range(args.txns_per_session):
            n = min(args.per_txn, budget[0])
            if n <= 0 or time.monotonic() > deadline:
                break
            budget[0] -= n
            batch = [codes.next() for _ in range(n)]
            # MAIL, the RCPTs and RSET in one write (PIPELINING)
            out = ["MAIL FROM:<>"]
            out += ["RCPT TO:<%s@%s>" % (c, args.domain) for _, c in batch]
            out.append("RSET")
            writer.write(("\r\n".join(out) + "\r\n").encode())
            await writer.drain()
            code, text = await read_reply(reader)
            if code != "250":
                raise RuntimeError("MAIL: %s %s" % (code, text))
            for kind, c in batch:
                code, text = await read_reply(reader)
                stats.sent += 1
                key = code + " " + text[:5]
                stats.replies[key] = stats.replies.get(key, 0) + 1
                k = stats.by_kind.setdefault(kind, {})
                k[key] = k.get(key, 0) + 1
                if code[0] == "2":
                    stats.accepted += 1
                if not (code == "550" and text.startswith("5.1.1")) and len(stats.bad) < 10:
                    stats.bad.append("%s %s -> %s %s" % (kind, c, code, text))
            code, text = await read_reply(reader)
            if code != "250":
                raise RuntimeError("RSET: %s %s" % (code, text))
        await command(reader, writer, "QUIT", "221")
        stats.sessions += 1
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except Exception:
            pass


async def worker(args, codes, stats, budget, deadline):
    while budget[0] > 0 and time.monotonic() < deadline:
        try:
            await session(args, codes, stats, budget, deadline)
        except Exception as e:  # counted, and the run goes on
            stats.errors += 1
            if len(stats.bad) < 10:
                stats.bad.append("session: %s" % e)
            if stats.errors > args.max_errors:
                return


async def main_async(args):
    keys = read_keys(args.key_file) if args.key_file else []
    codes = Codes(args.domain, keys, random.Random(args.seed))
    stats = Stats()
    budget = [args.count]
    start = time.monotonic()
    deadline = start + args.time_limit
    await asyncio.gather(*(worker(args, codes, stats, budget, deadline)
                           for _ in range(args.sessions)))
    elapsed = time.monotonic() - start
    return stats, elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--domain", default="feedback.example.nl")
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--sessions", type=int, default=16, help="concurrent sessions")
    p.add_argument("--per-txn", type=int, default=100, help="RCPTs per transaction")
    p.add_argument("--txns-per-session", type=int, default=10)
    p.add_argument("--time-limit", type=float, default=600)
    p.add_argument("--key-file", help="the milter's key file (for valid MACs)")
    p.add_argument("--xclient", default="192.0.2.10", help="XCLIENT ADDR ('' for none)")
    p.add_argument("--xclient-name", default="mx.remote.example")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-errors", type=int, default=50)
    args = p.parse_args()
    stats, elapsed = asyncio.run(main_async(args))
    ok = stats.sent == args.count and stats.accepted == 0 and \
        stats.replies.get("550 5.1.1", 0) == stats.sent and stats.errors == 0
    print(json.dumps({
        "attempts": stats.sent, "wanted": args.count,
        "accepted": stats.accepted, "replies": stats.replies,
        "by_kind": stats.by_kind, "sessions": stats.sessions,
        "session_errors": stats.errors, "seconds": round(elapsed, 2),
        "rate": round(stats.sent / elapsed, 1) if elapsed > 0 else None,
        "unexpected": stats.bad, "ok": ok}, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
