"""The pure domain core: frozen dataclasses and functions, no I/O imports."""
