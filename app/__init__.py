"""Latent3D Studio desktop app (PySide6)."""
