"""The web page of the ``www``/``www-ssl`` services: a login form, a live dashboard and a
configuration view of every ``/ip ipsec`` menu, generated from the menu schema and run through
the one command layer (``mgmt.commands.dispatch``). Plain HTML, CSS and JavaScript shipped in
``static/`` and ``templates/`` (no build step, no CDN); docs/web.md describes the page.
"""
