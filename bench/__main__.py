"""`python -m bench`: every benchmark, each figure beside the spec's target."""

from bench import foundation

foundation.run()
