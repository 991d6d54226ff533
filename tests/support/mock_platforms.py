"""A local stand-in for the Telegram, Slack and Facebook APIs: records every call."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class PlatformMock:
    def __init__(self) -> None:
        self.calls: list[dict] = []
        self._lock = threading.Lock()
        # Cleared by a test to hold Facebook Graph calls, as a slow Graph API would.
        self.graph_open = threading.Event()
        self.graph_open.set()
        self.graph_waiting = threading.Semaphore(0)
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                body: object
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                path = urlsplit(self.path).path
                if path.startswith("/fb/") and not mock.graph_open.is_set():
                    mock.graph_waiting.release()
                    mock.graph_open.wait(timeout=60)
                with mock._lock:
                    mock.calls.append({"path": path, "body": body})
                if "/bot" in path:  # Telegram: a Message object
                    chat_id = body.get("chat_id", 1) if isinstance(body, dict) else 1
                    reply = {
                        "ok": True,
                        "result": {
                            "message_id": len(mock.calls),
                            "date": 0,
                            "chat": {"id": int(chat_id), "type": "private"},
                        },
                    }
                elif path.startswith("/slack"):
                    reply = {"ok": True, "channel": "C1", "ts": "1.0"}
                else:  # Facebook Graph API and the callback channel
                    reply = {"recipient_id": "1", "message_id": "m"}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls_to(self, fragment: str) -> list[dict]:
        with self._lock:
            return [call for call in self.calls if fragment in call["path"]]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def close(self) -> None:
        self.server.shutdown()
