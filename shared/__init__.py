"""Muster Costs: per-agent LLM and cloud cost tracking (the project's own package)."""
