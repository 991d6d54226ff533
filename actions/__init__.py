"""Custom actions of the order-cancellation assistant.

Layers (README, "How it is built"): the Rasa adapters (``forms``, ``order_actions``,
``help_actions``, with ``adapter`` and ``conversation``) call the Rasa-free ``service``,
which uses the rules (``guidance``, ``seller_message``) and the ``store``. Terms come from
``vocabulary``, every sentence from the ``replies`` catalogue.
"""
