"""Project configuration: settings from the environment, URL routing and the ASGI/WSGI entry points."""
