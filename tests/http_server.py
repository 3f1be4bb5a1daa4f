#!/usr/bin/env python3
"""A small HTTP server for cnn-train's download tests (standard library only).

Listens on 127.0.0.1 on a port the system picks, prints "PORT <n>" on
stdout once it listens, and serves files under --root:

  /files/<path>        the file, 200 (404 when it does not exist)
  /truncated/<path>    Content-Length of the whole file but only half the
                       body, then the connection closes
  /redirect/<path>     302 to /files/<path>
  /status/<code>/...   an empty response with that status (e.g. 500)
  /md5/<path>          the file's MD5 in hex, computed by hashlib

Anything else is 404. The server exits by itself after --timeout seconds,
so a test that dies cannot leave it running.
"""
import argparse
import hashlib
import http.server
import os
import sys
import threading


def resolve(root, rel):
    """The file under root named by rel, or None when rel leaves root or names no file."""
    path = os.path.realpath(os.path.join(root, rel))
    if not path.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(path):
        return None
    return path


class Handler(http.server.BaseHTTPRequestHandler):
    root = "."

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def send_body(self, code, body, content_type="application/octet-stream", length=None):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        parts = self.path.split("?", 1)[0].lstrip("/").split("/", 1)
        kind, rel = parts[0], parts[1] if len(parts) > 1 else ""
        if kind == "status":
            code_str, _, _ = rel.partition("/")
            code = int(code_str) if code_str.isdigit() else 500
            self.send_body(code, b"")
            return
        path = resolve(self.root, rel) if kind in ("files", "truncated", "redirect", "md5") else None
        if path is None:
            self.send_body(404, b"not found\n", "text/plain")
            return
        with open(path, "rb") as f:
            data = f.read()
        if kind == "files":
            self.send_body(200, data)
        elif kind == "truncated":
            self.send_body(200, data[: len(data) // 2], length=len(data))
            self.close_connection = True
        elif kind == "redirect":
            self.send_response(302)
            self.send_header("Location", "/files/" + rel)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
        else:
            self.send_body(200, hashlib.md5(data).hexdigest().encode(), "text/plain")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="directory to serve")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before the server exits by itself")
    args = ap.parse_args()
    Handler.root = args.root
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    timer = threading.Timer(args.timeout, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
