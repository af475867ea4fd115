"""Project format modules, found through settings.FORMAT_MODULE_PATH.

Django 5 always localises, so a locale's own format module overrides
settings.DATE_FORMAT and friends. These modules restate the trust's formats
for the active locale.
"""
