// @sentry/node (current major), unmodified: an exception with a stack trace, a message, and a message
// with 40 KB of extra data (the SDK gzips envelopes above 32 KiB).
// Usage: node sentry_node.js <dsn>; prints "exception <id>", "message <id>" and "large <id>", then flushes
// (exit code 1 if the flush timed out).
'use strict';
const Sentry = require('@sentry/node');

const [dsn] = process.argv.slice(2);
Sentry.init({ dsn, debug: !!process.env.SENTRY_DEBUG });

function divide(numerator, divisor) {
  if (divisor === 0) throw new TypeError('cannot divide by zero in node');
  return numerator / divisor;
}

try {
  divide(1, 0);
} catch (error) {
  console.log(`exception ${Sentry.captureException(error)}`);
}
console.log(`message ${Sentry.captureMessage('hello from @sentry/node')}`);
const large = Sentry.captureMessage('large event from @sentry/node', { extra: { blob: 'x'.repeat(40000) } });
console.log(`large ${large}`);
Sentry.flush(10000).then((flushed) => process.exit(flushed ? 0 : 1));
