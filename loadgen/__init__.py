"""lambdascope's load generator: schedules, targets, stats, and a worker process the app controls."""
