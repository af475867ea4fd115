import os

# Playwright's sync API runs an event loop in the test thread; Django's async
# safety check would otherwise reject ORM calls made beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
