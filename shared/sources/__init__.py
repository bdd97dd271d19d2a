"""Clients for external systems. Each takes an injectable session/client and a configurable base URL."""
