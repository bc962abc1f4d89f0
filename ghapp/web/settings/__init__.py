"""The settings page (PRODUCT.md §6): sign in with GitHub, switch skills on and off.

Routes, all under /settings (`routes.py`):

    GET  /settings                         sign-in page, or the person's installations
    GET  /settings/login?next=…            starts GitHub's OAuth web flow
    GET  /settings/auth/callback           GitHub's OAuth callback (a manifest callback URL)
    POST /settings/logout                  sign out (CSRF)
    GET  /settings/installed               GitHub's post-install `setup_url`
    GET  /settings/installations/{id}      one installation: switches, options, deliveries
    POST /settings/installations/{id}/switches
    POST /settings/installations/{id}/deliveries/{delivery}/redeliver

One module per part: `sign_in` (the OAuth round trip, over `oauth`), `installations`
(what a person sees), `changes` (the forms), `access` (what GitHub says the person may
see and change), `rendering` (templates, headers, problem pages). Pages work without
JavaScript (every control is a form) and use only the `SettingsServices` the app factory
hands them (`ghapp.web.services`).
"""
