"""Server-side Rasa extensions that are not channels (loaded by module path from endpoints)."""
