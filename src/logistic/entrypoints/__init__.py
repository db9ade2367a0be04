"""The ways in: the HTTP API, the report scheduler and the command line."""
