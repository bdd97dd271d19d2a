"""Daily worker: central-bank USD rates for the supported currencies."""
