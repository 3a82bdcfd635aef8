"""GUI entry point."""


def main() -> int:
    """Start the desktop app."""
    raise SystemExit("the desktop app is not built yet")
