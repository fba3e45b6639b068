"""Admin registrations: filled in by its capability."""
