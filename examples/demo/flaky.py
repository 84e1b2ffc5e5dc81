"""Works for a random while, then crashes (exit 1)."""
import os
import random
import time

restarts = os.environ.get("TEND_RESTART_COUNT", "0")
reason = os.environ.get("TEND_RESTART_REASON", "start")
lifetime = random.uniform(1.0, 6.0)
print(f"working (restart {restarts}, reason {reason}); will crash in {lifetime:.1f}s")
time.sleep(lifetime)
print("oops, crashing", flush=True)
raise SystemExit(1)
