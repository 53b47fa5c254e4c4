"""The demo data generator (generator.py); not part of the library's main path."""
