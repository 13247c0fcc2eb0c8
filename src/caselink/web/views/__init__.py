"""The app's views, one module per page family; each module's ``register(views)`` adds its routes."""
