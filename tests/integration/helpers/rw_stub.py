#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A remote-write receiver that answers every POST with one status and body, for the
# uplink tests: 503 (an outage that answers), 400 with bytes that are not text, 200.
# Writes each request's headers to --headers (appended); --tls serves https.
import argparse
import http.server

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--status", type=int, required=True)
ap.add_argument("--garbage", action="store_true", help="answer with bytes that do not print")
ap.add_argument("--headers", required=True)
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve https with this certificate")
args = ap.parse_args()
posts = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global posts
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        posts += 1
        with open(args.headers, "a") as f:
            f.write("".join(f"{k}: {v}\n" for k, v in self.headers.items()) + "--\n")
        body = bytes(range(256)) * 4 if args.garbage else b"stub answer\n"
        self.send_response(args.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer.allow_reuse_address = True
server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
if args.tls:
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls[0], args.tls[1])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
