#!/usr/bin/python3
"""The lab's alert receiver: stands in for a country's Slack or ops webhook.

Every POST (any path) is appended as one JSON line to /var/log/crvs-lab/alerts.jsonl with the time, the sender's
address, the path and the body (parsed when it is JSON). `crvs lab alerts` reads that file.
"""
import json
import os
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = os.path.join(os.environ.get("LOGS_DIRECTORY", "/var/log/crvs-lab"), "alerts.jsonl")
BIND = (os.environ.get("CRVS_LAB_ALERTS_ADDRESS", "0.0.0.0"), int(os.environ.get("CRVS_LAB_ALERTS_PORT", "9000")))
MAX_BODY = 64 * 1024


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        entry = {
            "received": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "from": self.client_address[0],
            "path": self.path,
            "body": body,
        }
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):  # the journal does not need every request
        pass


ThreadingHTTPServer(BIND, Receiver).serve_forever()
