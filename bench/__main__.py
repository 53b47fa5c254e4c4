"""`python -m bench`: every benchmark, each figure beside the spec's target."""

from bench import accuracy, channels, dashboard, duplicates, foundation, imports, segments

foundation.run()
channels.run()
segments.run()
dashboard.run()
imports.run()
accuracy.run()
duplicates.run()
