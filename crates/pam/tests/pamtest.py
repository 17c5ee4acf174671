"""Runs one PAM password change through pam_wrapper (no change to /etc/pam.d).

    pamtest.py SERVICE USER EXPECTED_RV < PASSWORDS

The passwords (one per line on standard input, never on a command line) answer the
conversation's prompts in order. Prints the messages the modules
showed as JSON, {"errors": [...], "info": [...]}; exits 1 if the change ended with another code.
"""
import json
import sys

import pypamtest

service, user, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
tokens = sys.stdin.read().splitlines()
case = pypamtest.TestCase(pypamtest.PAMTEST_CHAUTHTOK, expected_rv=expected)
try:
    result = pypamtest.run_pamtest(user, service, [case], tokens)
except pypamtest.PamTestError as e:
    print(json.dumps({"failed": str(e)}))
    sys.exit(1)
print(json.dumps({"errors": list(result.errors), "info": list(result.info)}))
