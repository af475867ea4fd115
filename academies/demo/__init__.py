"""The demo trust: name lists and the builder behind `manage.py seed_demo`."""
