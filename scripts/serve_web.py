"""Serve the chat page (web/) on its own port, with socket.io-client from node_modules.

    .venv/bin/python scripts/serve_web.py --port 8080 --rasa-url http://localhost:5005

``POST /api/session`` stands in for the shop's login: when CUSTOMER_IDENTITY_SECRET is set (at
least 32 bytes, as the action server requires; ``scripts/run.sh`` makes one per run) it
returns a short-lived signed identity for the demo buyer, which the widget passes to Rasa in
each message's metadata. Without the secret, sign-in is off (403) and the email check applies.

Only files are served, found by the normalised path (``//``, ``.``, ``..`` and %-escapes
resolved first): the files of web/ (index.html, the widget) and socket.io-client's bundle
under /vendor/. Never npm's files (node_modules, package.json), dotfiles, anything outside
web/, or a directory listing: all of those are 404.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.identity import IDENTITY_SECRET_ENV, identity_secret, sign_customer_token  # noqa: E402

WEB = ROOT / "web"
VENDOR = {"/vendor/socket.io.min.js": WEB / "node_modules/socket.io-client/dist/socket.io.min.js"}
DEMO_CUSTOMER = "C1"
PRIVATE = {"node_modules", "package.json", "package-lock.json"}


def request_path(target: str) -> str:
    """The path of a request target, normalised: "//node_modules/x" is "/node_modules/x"
    (``urlsplit`` would take "node_modules" for a host), "/a/../b" is "/b"."""
    path = unquote(target.split("?", 1)[0].split("#", 1)[0])
    return "/" + "/".join(part for part in posixpath.normpath("/" + path).split("/") if part)


def static_file(path: str) -> Path | None:
    """The file of web/ a normalised path names, or None: no directories, nothing of npm's,
    no dotfiles, nothing outside web/ (symbolic links included)."""
    parts = [part for part in path.split("/") if part] or ["index.html"]
    if parts[0] in PRIVATE or any(part.startswith(".") or "\x00" in part for part in parts):
        return None
    root = WEB.resolve()
    candidate = root.joinpath(*parts).resolve()
    return candidate if candidate.is_relative_to(root) and candidate.is_file() else None


def make_handler(rasa_url: str) -> type[SimpleHTTPRequestHandler]:
    rasa = urlsplit(rasa_url)
    websocket = f"{'wss' if rasa.scheme == 'https' else 'ws'}://{rasa.netloc}"
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"connect-src 'self' {rasa_url} {websocket}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(WEB), **kwargs)

        def end_headers(self) -> None:
            self.send_header("Content-Security-Policy", policy)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def send_json(self, status: HTTPStatus, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self) -> None:
            path = request_path(self.path)
            if path == "/config.json":
                return self.send_json(HTTPStatus.OK, {"rasaUrl": rasa_url})
            file = VENDOR.get(path) or static_file(path)
            if file is None:
                return self.send_error(HTTPStatus.NOT_FOUND)
            data = file.read_bytes()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", self.guess_type(str(file)))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return None

        do_HEAD = do_GET

        def list_directory(self, path: str | os.PathLike[str]) -> None:
            """Never a listing, whatever path leads here."""
            self.send_error(HTTPStatus.NOT_FOUND)
            return None

        def do_POST(self) -> None:
            if request_path(self.path) != "/api/session":
                return self.send_error(HTTPStatus.NOT_FOUND)
            secret = identity_secret()  # None when unset or too short for the action server
            if not secret:
                return self.send_json(HTTPStatus.FORBIDDEN, {"error": "sign-in is not enabled"})
            token = sign_customer_token(DEMO_CUSTOMER, secret, lifetime_seconds=3600)
            return self.send_json(HTTPStatus.OK, {"customer_token": token})

        def log_message(self, format: str, *args) -> None:  # quiet by default
            if os.environ.get("WEB_VERBOSE"):
                super().log_message(format, *args)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", 8080)))
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://localhost:5005"))
    args = parser.parse_args()
    if not VENDOR["/vendor/socket.io.min.js"].exists():
        sys.exit("web/node_modules is missing: run `make web` (npm ci in web/)")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.rasa_url))
    sign_in = "on" if identity_secret() else f"off ({IDENTITY_SECRET_ENV} unset or shorter than 32 bytes)"
    print(f"chat page on http://{args.host}:{args.port} (Rasa at {args.rasa_url}; demo sign-in {sign_in})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
