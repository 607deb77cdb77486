"""The probe (the function lambdascope deploys) and the local Lambda that runs it without AWS."""
