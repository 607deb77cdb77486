"""The classic probes of Lambda's behaviour, each a documented method with its limits.

One module per method; each holds its procedure (`run`, written as calls to `drive.send`) and its
pure finding. `lambdascope experiment NAME` runs one against the target and prints its finding.
"""

METHODS = ("blog", "scaling", "idle-reclaim", "lifetime", "packing")
