"""Admin for notifications."""
