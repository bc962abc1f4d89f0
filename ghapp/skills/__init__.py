"""Built-in skills shipped with ghapp; each is registered under the `ghapp.skills` entry points."""
