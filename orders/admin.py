"""Admin registrations. Each part of the admin lives in its own module, imported here."""
