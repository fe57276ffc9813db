#!/usr/bin/python3
"""Reads the lab's mailbox and prints each message as one JSON line, oldest first (for `crvs lab mail`).

Fields: received (UTC, ISO 8601, from the mailbox's own delivery line), from, to (a list), subject, body (the
text/plain part, decoded), and relay: the newest Received header on one line, where Postfix records the client,
its TLS and its authenticated account. A missing mailbox is an empty one.
"""
import email
import email.policy
import json
import mailbox
import os
import sys
from datetime import datetime, timezone

PATH = sys.argv[1] if len(sys.argv) > 1 else "/var/mail/ops"


def delivered(message):
    """The time in the mbox "From " line, which the local delivery agent writes (asctime, the server's UTC)."""
    try:
        stamp = " ".join(message.get_from().split()[-5:])
        return datetime.strptime(stamp, "%a %b %d %H:%M:%S %Y").replace(tzinfo=timezone.utc).isoformat()
    except ValueError:
        return ""


if os.path.exists(PATH):
    box = mailbox.mbox(PATH, create=False)
    for key in box.iterkeys():
        message = box.get_message(key)
        parsed = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain",))
        print(json.dumps({
            "received": delivered(message),
            "from": str(parsed.get("From", "")).strip(),
            "to": [a.strip() for a in str(parsed.get("To", "")).split(",") if a.strip()],
            "subject": str(parsed.get("Subject", "")).strip(),
            "body": part.get_content() if part is not None else "",
            "relay": " ".join(str(parsed.get("Received", "")).split()),
        }), flush=True)
