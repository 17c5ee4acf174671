"""Times password changes through a PAM stack under pam_wrapper, in one process.

    pambench.py SERVICE USER ROUNDS < PASSWORD

Each round is one pam_start .. pam_chauthtok .. pam_end (pypamtest's run_pamtest) answering the
prompts with the password (standard input, never a command line). Prints p50 and p99 in
microseconds.
"""
import sys
import time

import pypamtest

service, user, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
password = sys.stdin.read().strip("\n")
case = pypamtest.TestCase(pypamtest.PAMTEST_CHAUTHTOK)
times = []
for _ in range(rounds):
    start = time.perf_counter()
    pypamtest.run_pamtest(user, service, [case], [password, password])
    times.append((time.perf_counter() - start) * 1e6)
times.sort()
print(f"p50_us {times[len(times) // 2]:.0f} p99_us {times[len(times) * 99 // 100]:.0f}")
