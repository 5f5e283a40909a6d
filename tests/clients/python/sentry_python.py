"""sentry-python (Debian's python3-sentry-sdk 1.9.10), unmodified.

Usage: /usr/bin/python3 sentry_python.py <dsn> store|envelope
  store:    an exception with a stack trace and a message: 1.9 posts both to /store/.
  envelope: an exception with an attachment on its scope: 1.9 posts it as an envelope to /envelope/.
Prints "<kind> <event id>" per event, after flushing.
"""

import sys

import sentry_sdk


def divide(numerator, divisor):
    return numerator / divisor


def load_invoice(number):
    raise ValueError(f"invoice {number} is missing")


def main():
    dsn, mode = sys.argv[1:3]
    sentry_sdk.init(dsn)
    if mode == "store":
        try:
            divide(1, 0)
        except ZeroDivisionError:
            print("exception", sentry_sdk.capture_exception())
        print("message", sentry_sdk.capture_message("hello from sentry-python"))
    else:
        with sentry_sdk.push_scope() as scope:
            scope.add_attachment(bytes=b"order 42: card declined\n", filename="a.txt", content_type="text/plain")
            try:
                load_invoice(42)
            except ValueError:
                print("exception", sentry_sdk.capture_exception())
    sentry_sdk.flush(10)


if __name__ == "__main__":
    main()
