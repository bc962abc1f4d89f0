"""The settings page's parts: what the signed-in person may see and change on GitHub."""
