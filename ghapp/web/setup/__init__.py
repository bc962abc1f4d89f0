"""Setup mode: registering the GitHub App from its manifest, with no key copied by hand.

While no App is configured (`APP_ID` unset), `ghapp run` serves (`routes.py`):

    GET  /                what will happen, and the registration form
    POST /setup/register  builds the manifest for the chosen public URL, remembers a random
                          `state` and gives the browser a form that posts it to GitHub
    GET  /setup/callback  GitHub's redirect back: checks `state`, exchanges the code for the
                          App's credentials (`POST /app-manifests/{code}/conversions`),
                          writes them to `.env` (mode 0600) and starts serving the App at
                          once, with no restart

Once an App is configured these routes answer 404: setup happens once, and a configured
server must not offer its own credentials up for replacement to whoever reaches it.

`state` lives in this process's memory, one use each, for an hour (GitHub's codes expire
after an hour too; `registrations.py`). It is not bound to a browser cookie on purpose:
people often open `http://localhost:3000/` but register a public tunnel URL, and the
callback then arrives on that other host, where a cookie set by localhost would not be
sent. What GitHub hands back, and how it is saved, is `credentials.py`.
"""
