"""A tiny stand-in for an installed vision package (tests only): read from disk by the linter, never
imported by it; the runtime tests import it to check which parameters get no gradient."""
from . import models

__version__ = "0.0.1"
