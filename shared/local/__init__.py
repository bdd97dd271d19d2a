"""Local mode: the embedded stack (moto server), local sources, the HTTP→API Gateway adapter, demo data."""
