"""The job under the wrapper: a stand-in for your agent.

It prints its answer on stdout, which `vc-runid run` captures and binds. vc-runid passes the run
to the command in RUNID_RUN_ID and RUNID_DECLARATION (the declaration file's path).
"""

import os
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
question = (here / "input.txt").read_text().strip()
policy = (here / "docs" / "refunds.md").read_text()

days = int(question.split("arrived ")[1].split(" ")[0])
allowed = "within 30 days" in policy and days <= 30
print(
    f"{'Yes' if allowed else 'No'}: refunds are allowed within 30 days of delivery; "
    f"it arrived {days} days ago."
)
print(f"job: running as {os.environ['RUNID_RUN_ID']}", file=sys.stderr)
