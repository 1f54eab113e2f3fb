"""The REST API (RouterOS 7 conventions) over the command layer; served by io/http_server."""
