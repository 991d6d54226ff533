"""Custom actions of the order-cancellation assistant.

Layout: ``store`` (the SQLite order store), ``guidance`` (the SPEC §4 rules, no Rasa),
``identity`` (who the buyer is), ``context`` (turning rows and trackers into facts),
``forms`` (the order form's validation), ``order_actions`` and ``help_actions`` (thin
adapters that speak).
"""
