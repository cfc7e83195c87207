#!/usr/bin/env python3
"""milter-client.py - speak the MTA side of the milter protocol to a milter.

For protocol paths that Postfix never takes (Sendmail reuses a milter
connection for a new SMTP session with SMFIC_QUIT_NC). One connection to
SOCKET (unix:/path or inet:PORT@HOST), one option negotiation, then one
SMTP session per --session, separated by QUIT_NC, then QUIT.

  milter-client.py [--no-connect-step] [--tag TAG] SOCKET
                   --session FROM,RCPT ...

Each session is connect (from 127.0.0.1, port 25), HELO, MAIL FROM, one
RCPT, three headers (Message-ID <qnc-TAG-N@client.test>, X-Campaign-ID
TAG-N and Subject, each with the leading space of SMFIP_HDR_LEADSPC), one
body chunk and end of body; N counts the sessions from 1, TAG is --tag.
An empty FROM is the null sender.

Every reply is printed on a line of its own, "SESSION STEP CODE [DATA]":
CODE is the reply letter (c continue, a accept, t tempfail, r reject, y
reply code, e change sender, h/m/i header changes, d discard); DATA is the
reply's data with each NUL written as "|" (a header change: NAME|VALUE,
the value as sent, with any leading space) and other unprintable octets as
"?".

With --no-connect-step the MTA offers to leave out the connect step
(SMFIP_NOCONNECT) and passes the client's address as {client_addr}.
Exit status 0 when every step got the replies the protocol promises, 1
otherwise (a closed connection, an unexpected reply, a timeout).
"""
import argparse
import socket
import struct
import sys

SMFIP_NOCONNECT = 0x1
SMFIP_NODATA = 0x200
SMFIP_NOEOH = 0x40
SMFIP_NR = {
    "connect": 0x1000, "helo": 0x2000, "mail": 0x4000, "rcpt": 0x8000,
    "header": 0x80, "body": 0x80000,
}
# what Postfix 3.7 offers (milter_protocol = 6), NOCONNECT aside
OFFER = 0x1FFFFF & ~SMFIP_NOCONNECT
ACTIONS = 0x1FF
FINAL = set(b"catrdy")


class Closed(Exception):
    pass


def connect(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spec.split(":", 1)[1])
    elif spec.startswith("inet:"):
        port, host = spec[5:].split("@", 1)
        s = socket.create_connection((host, int(port)))
    else:
        raise SystemExit("milter-client: bad socket %r" % spec)
    s.settimeout(30)
    return s


def send(s, cmd, data=b""):
    s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)


def recv(s):
    head = b""
    while len(head) < 4:
        part = s.recv(4 - len(head))
        if not part:
            raise Closed()
        head += part
    (n,) = struct.unpack(">I", head)
    body = b""
    while len(body) < n:
        part = s.recv(n - len(body))
        if not part:
            raise Closed()
        body += part
    return body[:1], body[1:]


def show(session, step, code, data):
    if code in (b"i", b"m") and len(data) >= 4:
        data = data[4:]         # the header's index
    text = "".join("|" if b == 0 else chr(b) if 32 <= b < 127 else "?"
                   for b in data).rstrip("|")
    print("%d %s %s%s" % (session, step, code.decode(),
                          " " + text if text else ""))


def final(s, session, step):
    """Read replies up to a final one; print each; return the last code."""
    while True:
        code, data = recv(s)
        show(session, step, code, data)
        if code[0] in FINAL:
            return code


def macros(stage, pairs):
    data = stage
    for k, v in pairs:
        data += k.encode() + b"\0" + v.encode() + b"\0"
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--session", action="append", required=True,
                    metavar="FROM,RCPT")
    ap.add_argument("--no-connect-step", action="store_true")
    ap.add_argument("--tag", default="qnc")
    a = ap.parse_args()
    offer = OFFER | (SMFIP_NOCONNECT if a.no_connect_step else 0)
    s = connect(a.socket)
    ok = True
    try:
        send(s, b"O", struct.pack(">III", 6, ACTIONS, offer))
        code, data = recv(s)
        if code != b"O" or len(data) < 12:
            print("0 optneg unexpected %r" % code)
            return 1
        _, _, pf = struct.unpack(">III", data[:12])
        print("0 optneg O flags=0x%x" % pf)
        nr = {k: bool(pf & v) for k, v in SMFIP_NR.items()}
        for n, spec in enumerate(a.session, 1):
            sender, rcpt = spec.split(",", 1)
            qid = "QNC%04dA" % n
            if n > 1:
                send(s, b"K")
            if not pf & SMFIP_NOCONNECT:
                send(s, b"D", macros(b"C", [("j", "mta.test")]))
                send(s, b"C", b"client.test\0" + b"4" +
                     struct.pack(">H", 25) + b"127.0.0.1\0")
                if not nr["connect"]:
                    ok &= final(s, n, "connect") == b"c"
            send(s, b"H", b"client.test\0")
            if not nr["helo"]:
                ok &= final(s, n, "helo") == b"c"
            send(s, b"D", macros(b"M", [
                ("i", qid), ("{daemon_port}", "25"),
                ("{client_addr}", "127.0.0.1")]))
            send(s, b"M", ("<%s>\0" % sender).encode())
            if not nr["mail"]:
                ok &= final(s, n, "mail") == b"c"
            send(s, b"R", ("<%s>\0" % rcpt).encode())
            if not nr["rcpt"]:
                code = final(s, n, "rcpt")
                if code != b"c":
                    ok = False
                    send(s, b"A")
                    continue
            if not pf & SMFIP_NODATA:
                send(s, b"T")
                ok &= final(s, n, "data") == b"c"
            for name, value in (
                    ("Message-ID", " <qnc-%s-%d@client.test>" % (a.tag, n)),
                    ("X-Campaign-ID", " %s-%d" % (a.tag, n)),
                    ("Subject", " session %d" % n)):
                send(s, b"L", name.encode() + b"\0" + value.encode() + b"\0")
                if not nr["header"]:
                    ok &= final(s, n, "header") == b"c"
            if not pf & SMFIP_NOEOH:
                send(s, b"N")
                ok &= final(s, n, "eoh") == b"c"
            send(s, b"B", b"hello\r\n")
            if not nr["body"]:
                ok &= final(s, n, "body") == b"c"
            send(s, b"D", macros(b"E", [("i", qid)]))
            send(s, b"E")
            ok &= final(s, n, "eom") in (b"c", b"a")
        send(s, b"Q")
    except (Closed, socket.timeout, OSError) as e:
        print("0 error %s" % (type(e).__name__,))
        return 1
    finally:
        s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
