"""Does its work, then asks tend for a fresh start by exiting with the restart code (42)."""
import os
import time

every = float(os.environ.get("REFRESH_EVERY", "5"))
code = int(os.environ.get("TEND_RESTART_EXIT_CODE") or 42)
print(f"fresh start #{os.environ.get('TEND_RESTART_COUNT', '0')}; refreshing in {every:.0f}s")
time.sleep(every)
print(f"asking for a restart (exit {code})")
raise SystemExit(code)
