"""Setup mode: registering the GitHub App from its manifest, with no key copied by hand.

While no App is configured (`APP_ID` unset), `ghapp run` serves (`routes.py`):

    GET  /setup?token=…   the setup URL `ghapp run` prints: sets the setup cookie and
                          drops the token from the address bar
    GET  / and /setup     what will happen, and the registration form
    POST /setup/register  builds the manifest for the chosen public URL, remembers a random
                          `state` for this browser and gives it a form that posts it to GitHub
    GET  /setup/callback  GitHub's redirect back: checks `state` (and that this browser
                          started it), exchanges the code for the App's credentials
                          (`POST /app-manifests/{code}/conversions`), writes them to `.env`
                          (mode 0600) and starts serving the App at once, with no restart

Setup mode belongs to whoever started the server (PRODUCT.md §7, `access.py`): without
the printed token or the cookie it sets, every page and form answers 403 and writes
nothing; the registration form also checks a CSRF token and `Origin`. Once an App is
configured these routes answer 404: setup happens once, and a configured server must not
offer its own credentials up for replacement to whoever reaches it.

`state` lives in this process's memory, one use each, for an hour (GitHub's codes expire
after an hour too; `registrations.py`), bound to the browser's setup cookie. Cookies
follow hosts, so a public URL on another host than the page was opened on (a tunnel) is
continued at that host first. What GitHub hands back, and how it is saved, is
`credentials.py`.
"""
