"""Admin for feedback."""
