#!/usr/bin/python3
"""A registry token server for end-to-end tests, on 127.0.0.1 only.

It issues the JWTs that docker-registry's `auth: token:` mode checks. They are RS256, signed
with the given key, and carry its certificate in the x5c header (docker-registry trusts it
through its rootcertbundle). The claims hold the given issuer and service (audience) and pull
access to the repositories of the requested scopes.

  GET  /token?service=S&scope=repository:NAME:pull     with HTTP Basic credentials
  POST /token  grant_type=refresh_token&refresh_token=T&service=S&scope=...
  POST /token  grant_type=password&username=U&password=P&service=S&scope=...

Requests without valid credentials get 401. Each request is logged as one line to --log:
  <method> user=<name or -> grant=<basic|refresh_token|password|none> scope=<scope> status=<code>

Uses only the standard library and the `openssl` command.
"""

import argparse
import base64
import datetime
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    def __init__(self, key, cert, issuer, service, lifetime):
        self.key = key
        self.issuer = issuer
        self.service = service
        self.lifetime = lifetime
        der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.counter = 0
        self.lock = threading.Lock()

    def sign(self, subject, scopes):
        with self.lock:
            self.counter += 1
            serial = self.counter
        now = int(time.time())
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            actions = [a for a in parts[-1].split(",") if a == "pull"]
            access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                           "actions": actions})
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now +
                  self.lifetime, "nbf": now - 10, "iat": now, "jti": f"berth-test-{serial}",
                  "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode()))
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                                   input=signing_input.encode(), check=True,
                                   capture_output=True).stdout
        return signing_input + "." + b64url(signature), now


def make_handler(issuer, users, refresh_tokens, log):
    log_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def record(self, user, grant, scopes, status):
            with log_lock, open(log, "a") as out:
                out.write(f"{self.command} user={user or '-'} grant={grant} "
                          f"scope={' '.join(scopes) or '-'} status={status}\n")

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def issue(self, user, grant, scopes):
            if user is None:
                self.record(None, grant, scopes, 401)
                self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                             "message": "credentials required"}]})
                return
            token, issued = issuer.sign(user, scopes)
            self.record(user, grant, scopes, 200)
            issued_at = datetime.datetime.fromtimestamp(issued, datetime.timezone.utc)
            self.reply(200, {"token": token, "access_token": token,
                             "expires_in": issuer.lifetime,
                             "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "refresh_token": "unused"})

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            scopes = query.get("scope", [])
            user = None
            grant = "none"
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                grant = "basic"
                try:
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                except ValueError:
                    name, password = "", ""
                if users.get(name) == password:
                    user = name
            self.issue(user, grant, scopes)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            grant = form.get("grant_type", ["none"])[0]
            scopes = form.get("scope", [])
            user = None
            if grant == "refresh_token":
                user = refresh_tokens.get(form.get("refresh_token", [""])[0])
            elif grant == "password":
                name = form.get("username", [""])[0]
                if users.get(name) == form.get("password", [None])[0]:
                    user = name
            self.issue(user, grant, scopes)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True, help="PEM RSA private key")
    parser.add_argument("--cert", required=True, help="PEM certificate of the key")
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--user", action="append", default=[], help="name:password")
    parser.add_argument("--refresh-token", action="append", default=[], help="token=name")
    parser.add_argument("--lifetime", type=int, default=300, help="token lifetime, seconds")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()

    users = dict(entry.split(":", 1) for entry in args.user)
    refresh_tokens = dict(entry.split("=", 1) for entry in args.refresh_token)
    issuer = Issuer(args.key, args.cert, args.issuer, args.service, args.lifetime)
    server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                 make_handler(issuer, users, refresh_tokens, args.log))
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
