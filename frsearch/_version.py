"""The version of frsearch (imported by whoever needs it, never from the package root)."""

__version__ = "1.0.0"
