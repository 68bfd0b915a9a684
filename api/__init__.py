"""REST plumbing every app's `apis.py` shares: the error shape and handlers (`errors`), throttles,
pagination and what a locked-out sign-in gets (`lockout`). Imports none of the apps."""
