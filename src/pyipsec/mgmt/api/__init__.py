"""The RouterOS binary API (TCP 8728, TLS 8729) as a sans-IO protocol over the command layer:
codec.py (words and sentences), replies.py (results as reply sentences), connection.py (one
client's state: login, tags, listen, cancel). The asyncio shell is io/api_server.py."""
