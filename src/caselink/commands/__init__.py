"""CLI commands, one module per area; each module's ``register(app)`` adds its verbs.

``caselink.cli`` imports every module here, so a new area adds a module and touches nothing else.
"""
