"""Print a conversation with a running assistant as a Markdown transcript.

    .venv/bin/python scripts/transcript.py --url http://localhost:5005 "cancel my order" "8100…0002"

A message starting with "/" is sent as a button payload, shown as the button's title.
"""

from __future__ import annotations

import argparse
import uuid

import requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("messages", nargs="+")
    args = parser.parse_args()
    sender = f"transcript-{uuid.uuid4().hex[:8]}"
    titles: dict[str, str] = {}
    for message in args.messages:
        shown = titles.get(message, message)
        print(f"> **Buyer:** {shown}" + (" *(button)*" if message in titles else ""))
        print(">")
        replies = requests.post(
            f"{args.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
        ).json()
        for reply in replies:
            text = (reply.get("text") or "").replace("\n", "  \n> ")
            print(f"> **Assistant:** {text}")
            buttons = reply.get("buttons") or []
            if buttons:
                print(">  " + " · ".join(f"`[{b['title']}]`" for b in buttons))
                titles.update({b["payload"]: b["title"] for b in buttons})
            print(">")
        print()


if __name__ == "__main__":
    main()
