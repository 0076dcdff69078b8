"""The API's models: importing this package registers every ``/api/<Model>/`` endpoint (S4 adds modules)."""
