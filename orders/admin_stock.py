"""Admin for stock."""
