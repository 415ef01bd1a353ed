"""The API's routers, one module per noun; each module's ``router`` is included by ``create_app``."""
