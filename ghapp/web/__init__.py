"""The HTTP surface: webhook ingress, health, metrics, the settings page and setup mode."""
