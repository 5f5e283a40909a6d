"""A small application for the web UI tests: it reports one ZeroDivisionError through the stock
sentry_sdk. The exception passes through json's decoder (excluded from in-app, so the UI has
system frames to collapse) and is raised in this file (in-app frames with source context).

Usage: ROOKERY_TEST_DSN=<dsn> python3 checkout_app.py [tag value]; prints the event id."""

import json
import os
import sys

import sentry_sdk


def apply_discount(cart, percent_off):
    full_price = sum(item["price"] for item in cart["items"])
    remaining = 100 - percent_off
    return full_price * 100 / remaining


def checkout(payload, percent_off):
    return json.loads(payload, object_hook=lambda cart: apply_discount(cart, percent_off) if "items" in cart else cart)


def main():
    sentry_sdk.init(os.environ["ROOKERY_TEST_DSN"], in_app_exclude=["json"], release="shop@1.4.2",
                    environment="production")
    sentry_sdk.set_user({"id": "42", "email": "ada@example.com"})
    sentry_sdk.set_tag("checkout.step", sys.argv[1] if len(sys.argv) > 1 else "payment")
    sentry_sdk.add_breadcrumb(category="cart", message="3 items in the cart", level="info")
    try:
        checkout('{"items": [{"price": 10}, {"price": 20}, {"price": 12}]}', 100)
    except ZeroDivisionError:
        print(sentry_sdk.capture_exception())
    sentry_sdk.flush(10)


if __name__ == "__main__":
    main()
