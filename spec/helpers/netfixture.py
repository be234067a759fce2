#!/usr/bin/env python3
"""Network stand-ins for the connection specs (standard library only).

  netfixture.py proxy --ready FILE --log FILE
      An HTTP CONNECT proxy that also speaks SOCKS5 on the same port. Each
      tunnel appends "CONNECT host:port" or "SOCKS host:port" to the log. The
      tunnel always goes to 127.0.0.1:port, so specs can use made-up host names
      and see that the name travelled through the proxy.

  netfixture.py probe --ready FILE --log FILE
      A plain-HTTP server that answers every request with JSON describing it
      ({"kind": "Probe", "method", "path", "headers": {name: [values]}}), gzip
      encoded when the client accepts gzip. Each request appends "METHOD PATH"
      to the log. POST /testserver/faults with {"status": 503, "retryAfter": 1,
      "count": 2}, {"reset": true, "count": 1} or {"delay": 2, "count": 1}
      makes the next requests fail that way (the shape of kube-testserver's
      fault injection).

  netfixture.py silent --ready FILE --log FILE
      Accepts connections and never says a word (a server that hangs in the
      TLS handshake), for connect timeouts. Each connection appends "ACCEPT".

  netfixture.py hostile --ready FILE --log FILE --cert C --key K
      A misbehaving API server over HTTPS (certificate C, key K). The
      namespace in the request path picks the fault, so one server does them
      all at once: /api/v1/namespaces/<fault>/configmaps[/name][/log]...
        endless-body     200, a chunked body that never ends (no newline)
        endless-lines    200, lines without end: log lines, or watch events
        gzip-bomb        200, a small gzip body that inflates to 100 MB
        bad-event        watch: a good event, a line that is not JSON, a good event
        short-stream     watch: 200 and the stream ends at once
        always-410       watch: an ERROR 410 event on every stream
        repeat-continue  list: every page has the same continue token
        watch-500        watch: HTTP 500
        echo-auth        403 whose message quotes the Authorization header
        bookmark-nometa  watch: a BOOKMARK without metadata, then a good event
        empty-200        200 with an empty body
      Lists (without watch=true) of the watch faults answer an empty list at
      resourceVersion 5. Each request appends "METHOD PATH" to the log.

The ready file gets "PORT PID" once listening. Both exit after --lifetime
seconds (default 600) in case the spec that started them died.
"""
import argparse
import gzip
import json
import os
import select
import socket
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def log_line(path, line):
    with LOCK, open(path, "a") as f:
        f.write(line + "\n")


def pipe(a, b):
    """Copies bytes both ways until either side closes."""
    socks = [a, b]
    try:
        while True:
            readable, _, _ = select.select(socks, [], [], 60)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


class ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        first = conn.recv(1, socket.MSG_PEEK)
        if first == b"\x05":
            self.socks(conn)
        else:
            self.connect(conn)

    def tunnel(self, conn, port):
        return socket.create_connection(("127.0.0.1", port), timeout=10)

    def connect(self, conn):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        target = parts[1]
        log_line(self.server.log, "CONNECT " + target)
        upstream = self.tunnel(conn, int(target.rsplit(":", 1)[1]))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pipe(conn, upstream)

    def socks(self, conn):
        def read(n):
            buf = b""
            while len(buf) < n:
                chunk = conn.recv(n - len(buf))
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            return buf

        _, nmethods = read(2)
        read(nmethods)
        conn.sendall(b"\x05\x00")  # no authentication
        _, cmd, _, atyp = read(4)
        if atyp == 1:
            host = socket.inet_ntoa(read(4))
        elif atyp == 3:
            host = read(read(1)[0]).decode()
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, read(16))
        else:
            return
        port = struct.unpack("!H", read(2))[0]
        if cmd != 1:
            conn.sendall(b"\x05\x07\x00\x01" + bytes(6))
            return
        log_line(self.server.log, "SOCKS %s:%d" % (host, port))
        upstream = self.tunnel(conn, port)
        conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
        pipe(conn, upstream)


class SilentHandler(socketserver.BaseRequestHandler):
    def handle(self):
        log_line(self.server.log, "ACCEPT")
        time.sleep(30)


class ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ProbeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, doc, extra=()):
        body = json.dumps(doc).encode()
        headers = [("Content-Type", "application/json")] + list(extra)
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        srv = self.server
        if self.command == "POST" and self.path == "/testserver/faults":
            with LOCK:
                srv.faults = json.loads(body or b"{}")
            return self.answer(200, {"kind": "Status", "status": "Success"})
        log_line(srv.log, "%s %s" % (self.command, self.path))
        with LOCK:
            fault = None
            if srv.faults.get("count", 0) > 0:
                srv.faults["count"] -= 1
                fault = dict(srv.faults)
        if fault and fault.get("reset"):
            # SO_LINGER 0: close with a TCP reset instead of a clean FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault and fault.get("delay"):
            time.sleep(fault["delay"])
        if fault and fault.get("status"):
            extra = [("Retry-After", str(fault["retryAfter"]))] if "retryAfter" in fault else []
            return self.answer(fault["status"], {
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": "injected fault", "code": fault["status"]}, extra)
        headers = {}
        for k, v in self.headers.items():
            headers.setdefault(k.lower(), []).append(v)
        self.answer(200, {"kind": "Probe", "method": self.command, "path": self.path,
                          "headers": headers, "body": body.decode("utf-8", "replace")})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


GZIP_BOMB = []


def gzip_bomb():
    """100 MB of spaces inside a JSON string, gzip-compressed (about 100 KB)."""
    if not GZIP_BOMB:
        import zlib
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        out = [z.compress(b'{"kind":"ConfigMap","data":{"x":"')]
        block = b" " * (1 << 20)
        for _ in range(100):
            out.append(z.compress(block))
        out.append(z.compress(b'"}}'))
        out.append(z.flush())
        GZIP_BOMB.append(b"".join(out))
    return GZIP_BOMB[0]


def cm(name, rv):
    return {"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "x", "resourceVersion": str(rv), "uid": "u-" + name}}


class HostileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def json(self, status, doc, extra=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def hold(self, seconds=30):
        """Keeps a stream open (until the client goes away)."""
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(0.1)
            try:
                self.connection.settimeout(0.01)
                if self.connection.recv(1, socket.MSG_PEEK) == b"":
                    return
            except (socket.timeout, BlockingIOError):
                pass
            except (OSError, ValueError):
                return

    def status(self, code, message):
        self.json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": message, "code": code})

    def do_GET(self):
        log_line(self.server.log, "%s %s" % (self.command, self.path))
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        fault = parts[3] if len(parts) > 3 and parts[2] == "namespaces" else ""
        watch = "watch=true" in query or "watch=1" in query
        try:
            self.serve_fault(fault, path, query, watch)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def serve_fault(self, fault, path, query, watch):
        if fault == "endless-body":
            self.start_chunked()
            self.chunk(b'{"kind":"ConfigMapList","items":[{"data":{"x":"')
            block = b"x" * 65536
            while True:
                self.chunk(block)
        if fault == "endless-lines":
            self.start_chunked()
            n = 0
            while True:
                n += 1
                if watch:
                    line = json.dumps({"type": "MODIFIED", "object": cm("flood", n + 10)}).encode() + b"\n"
                    self.chunk(line * 20)
                else:
                    self.chunk(b"".join(b"log line %d\n" % (n * 100 + i) for i in range(100)))
        if fault == "gzip-bomb":
            body = gzip_bomb()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if fault == "echo-auth":
            return self.status(403, "forbidden: you sent Authorization: %s" % self.headers.get("Authorization"))
        if fault == "empty-200":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "repeat-continue":
            return self.json(200, {"kind": "ConfigMapList", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": "5", "continue": "same-token"},
                                   "items": [cm("again", 5)]})
        if not watch:
            return self.json(200, {"kind": "ConfigMapList", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": "5"}, "items": []})
        if fault == "watch-500":
            return self.status(500, "internal error on a watch")
        self.start_chunked()
        ev = lambda t, o: json.dumps({"type": t, "object": o}).encode() + b"\n"
        if fault == "bad-event":
            self.chunk(ev("ADDED", cm("good1", 6)))
            self.chunk(b"this is not JSON\n")
            self.chunk(ev("ADDED", cm("good2", 7)))
            return self.hold()
        if fault == "short-stream":
            return self.end_chunks()
        if fault == "always-410":
            self.chunk(ev("ERROR", {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "message": "too old resource version", "reason": "Expired", "code": 410}))
            return self.end_chunks()
        if fault == "bookmark-nometa":
            self.chunk(ev("BOOKMARK", {"kind": "ConfigMap", "apiVersion": "v1"}))
            self.chunk(ev("ADDED", cm("after-bookmark", 8)))
            return self.hold()
        self.end_chunks()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["proxy", "probe", "silent", "hostile"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()
    if args.mode in ("proxy", "silent"):
        handler = ProxyHandler if args.mode == "proxy" else SilentHandler
        server = ThreadingTCP(("127.0.0.1", 0), handler)
    elif args.mode == "hostile":
        import ssl
        server = ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
        server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        ctx.set_alpn_protocols(["http/1.1"])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    else:
        server = ThreadingHTTPServer(("127.0.0.1", 0), ProbeHandler)
        server.daemon_threads = True
        server.faults = {}
    server.log = args.log
    open(args.log, "a").close()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (server.server_address[1], os.getpid()))
    os.rename(tmp, args.ready)
    time.sleep(args.lifetime)
    sys.exit(0)


if __name__ == "__main__":
    main()
