"""Processing rules: small, single-purpose steps over a ``CrashContext`` (see ``base.Rule``)."""
