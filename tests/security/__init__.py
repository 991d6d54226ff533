"""One test per attack on the trust boundary (SECURITY.md)."""
