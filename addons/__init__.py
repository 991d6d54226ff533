"""Server-side Rasa extensions that are not channels, named by module path in the
endpoints files: the windowed tracker store, the atomic Redis lock store, and the cached
validation of action-server responses (installed on import, see action_validation.py)."""

from addons import action_validation

action_validation.install()
