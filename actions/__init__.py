"""Custom actions of the order-cancellation assistant.

Layers (README, "How it is built"): the Rasa adapters (``forms``, ``order_actions``,
``help_actions``, with ``adapter`` and ``conversation``) call the Rasa-free ``service``,
which uses the rules (``guidance``, ``seller_message``) and the ``store``. Terms come from
``vocabulary``, every sentence from the ``replies`` catalogue.
"""

import sys as _sys


def _guard_rasa_sdk_server() -> None:
    """Plain ``rasa run actions`` imports this package from rasa-sdk's server
    (``rasa_sdk.endpoint``), which then calls its plugins' ``attach_sanic_app_extensions``:
    register ``actions.server``'s, which requires ACTION_SERVER_TOKEN and keeps the server on
    loopback. Before rasa-sdk's server module is loaded (``python -m actions.server``, the Rasa
    server) nothing is registered: ``python -m actions.server`` must not import itself before
    it runs. Registering is harmless anywhere else, since only rasa-sdk's ``run`` calls the
    hook; it happens once per process at most."""
    if "rasa_sdk.endpoint" not in _sys.modules:
        return
    from rasa_sdk.plugin import plugin_manager

    from actions import server

    manager = plugin_manager()
    if not manager.is_registered(server):
        manager.register(server, name="actions.server")


_guard_rasa_sdk_server()
