"""Crashcart's web application: a Django project (accounts, API tokens, the ``/api/`` dispatcher).

Django is configured by ``crashcart.database.configure`` (the one configuration every process shares); this
package holds the URLs, middleware, the accounts app and the API. ``crashcart web`` serves it alone,
``crashcart run`` serves it beside the collector on one port (``crashcart.web.router``).
"""
