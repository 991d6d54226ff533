"""Print one conversation per language (the README's "One conversation in each language"):
the action server and the Rasa server with the trained model, the demo data, over REST.

    .venv/bin/python scripts/language_transcripts.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.demo_data import open_demo_store  # noqa: E402
from tests.e2e.conftest import IDENTITY_SECRET, MODEL  # noqa: E402
from tests.support.stack import running_stack  # noqa: E402

EMAIL = "alex.buyer@example.com"
SCRIPTS = {
    "Español": ["hola, quiero cancelar el pedido 8100000000000002", EMAIL, "me equivoqué de talla", "sí"],
    "Português": ["oi, quero cancelar o pedido 8100000000000002", EMAIL, "comprei o tamanho errado", "sim"],
    "Français": ["bonjour, je veux annuler la commande 8100000000000002", EMAIL, "je me suis trompé de taille", "oui"],
    "Русский": ["здравствуйте, хочу отменить заказ 8100000000000002", EMAIL, "ошибся с размером", "да"],
}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="transcripts-"))
    database = work / "orders.db"
    env = {"ORDER_DB_PATH": str(database), "CUSTOMER_IDENTITY_SECRET": IDENTITY_SECRET}
    with running_stack(MODEL, work, env) as stack:
        for language, lines in SCRIPTS.items():
            open_demo_store(database).reset()
            print(f"\n#### {language}\n")
            for index, line in enumerate(lines):
                body = {"sender": f"transcript-{language}", "message": line}
                replies = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60).json()
                print(f"> **Buyer:** {line}\n>")
                for number, reply in enumerate(replies):
                    buttons = " · ".join(f"[{button['title']}]" for button in reply.get("buttons") or [])
                    text = (reply.get("text") or "").replace("\n", " ")
                    last = index == len(lines) - 1 and number == len(replies) - 1
                    print(f"> **Assistant:** {text}" + (f" {buttons}" if buttons else "") + ("" if last else "\n>"))


if __name__ == "__main__":
    main()
