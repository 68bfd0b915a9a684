"""Small helpers every app may use; this package imports none of the apps (the bottom layer)."""
