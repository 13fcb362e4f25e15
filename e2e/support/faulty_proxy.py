#!/usr/bin/python3
"""An HTTP proxy for end-to-end tests that puts faults between a client and one registry.

It listens on 127.0.0.1 and forwards every request to --upstream (a registry on loopback),
with these faults, each optional:

  --errors 503,429     respond to the first requests with these statuses instead (429 and 503
                       carry "Retry-After: 1")
  --cut-after N        send only the first N bytes of the first blob body longer than N, then
                       close the connection; later requests, Range ones included, pass through
  --stall-after N      send the first N bytes of every blob body longer than N, then send
                       nothing more (for at most 60 s)
  --ignore-range       drop the Range header before forwarding, so the registry sends the
                       whole blob with 200, as a server without range support does
  --redirect-blobs     answer blob GETs with 307 to the same path on http://localhost:<port>;
                       the redirected request is forwarded with the Authorization header of the
                       request that got the redirect, as a storage service with signed URLs
                       would accept it

Each request is logged as one line to --log:
  <method> <path> host=<Host> range=<Range or -> auth=<yes|no> status=<status> action=<what>
"""

import argparse
import http.client
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "host", "content-length"}
MAX_STALL_SECONDS = 60


class State:
    def __init__(self, args):
        self.args = args
        self.errors = [int(s) for s in args.errors.split(",") if s] if args.errors else []
        self.cut_done = False
        self.lock = threading.Lock()
        self.last_authorization = {}  # path -> Authorization of the request redirected


def make_handler(state):
    args = state.args

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *fmt_args):
            pass

        def record(self, status, action):
            line = (f"{self.command} {self.path} host={self.headers.get('Host', '-')} "
                    f"range={self.headers.get('Range', '-')} "
                    f"auth={'yes' if self.headers.get('Authorization') else 'no'} "
                    f"status={status} action={action}\n")
            with state.lock, open(args.log, "a") as out:
                out.write(line)

        def simple(self, status, headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def handle_any(self):
            is_blob = "/blobs/sha256:" in self.path
            with state.lock:
                error = state.errors.pop(0) if state.errors else None
            if error is not None:
                self.record(error, "error")
                retry = [("Retry-After", "1")] if error in (429, 503) else []
                self.simple(error, retry)
                return

            path = self.path
            redirected = path.endswith("?redirected=1")
            if args.redirect_blobs and is_blob and self.command == "GET" and not redirected:
                with state.lock:
                    state.last_authorization[path] = self.headers.get("Authorization")
                self.record(307, "redirect")
                port = self.server.server_address[1]
                self.simple(307, [("Location", f"http://localhost:{port}{path}?redirected=1")])
                return

            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if args.ignore_range:
                headers = {k: v for k, v in headers.items() if k.lower() != "range"}
            if redirected:
                path = path[: -len("?redirected=1")]
                with state.lock:
                    remembered = state.last_authorization.get(path)
                headers.pop("Authorization", None)
                if remembered:
                    headers["Authorization"] = remembered
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else None
            upstream = http.client.HTTPConnection(args.upstream, timeout=30)
            upstream.request(self.command, path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            upstream.close()

            action = "forward"
            limit = None
            if is_blob and 200 <= response.status < 300:
                with state.lock:
                    if args.cut_after and not state.cut_done and len(data) > args.cut_after:
                        state.cut_done = True
                        action, limit = "cut", args.cut_after
                if args.stall_after and len(data) > args.stall_after:
                    action, limit = "stall", args.stall_after
            self.record(response.status, action)

            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if limit is None:
                self.wfile.write(data)
                return
            self.wfile.write(data[:limit])
            self.wfile.flush()
            if action == "stall":
                time.sleep(MAX_STALL_SECONDS)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

        def do_GET(self):
            self.handle_any()

        def do_HEAD(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="host:port of the registry")
    parser.add_argument("--log", required=True)
    parser.add_argument("--errors", default="")
    parser.add_argument("--cut-after", type=int, default=0)
    parser.add_argument("--stall-after", type=int, default=0)
    parser.add_argument("--ignore-range", action="store_true")
    parser.add_argument("--redirect-blobs", action="store_true")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(State(args)))
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
