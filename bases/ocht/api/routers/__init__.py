"""One router per resource: health, pipelines, runs, keys."""
