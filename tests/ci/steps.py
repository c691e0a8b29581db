# Prints the steps of a GitHub Actions workflow's jobs as JSON: [{name, run}], in order.
import json
import sys

import yaml

workflow = yaml.safe_load(open(sys.argv[1]))
steps = [
    {"name": step.get("name", ""), "run": step["run"]}
    for job in workflow["jobs"].values()
    for step in job["steps"]
    if "run" in step
]
json.dump(steps, sys.stdout)
