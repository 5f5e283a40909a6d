// raven 2.6.x (the legacy Node client), unmodified: an exception with a stack trace and a message.
// Usage: node raven_node.js <dsn>; prints "exception <id>" and "message <id>" once the relay has answered
// each (exit code 1 if it refused one).
'use strict';
const Raven = require('raven');

const [dsn] = process.argv.slice(2);
Raven.config(dsn, { autoBreadcrumbs: false, captureUnhandledRejections: false }).install();

function refund(order) {
  if (order.closed) throw new TypeError('cannot refund a closed order from raven-node');
}

function send(kind, capture) {
  return new Promise((resolve, reject) => {
    capture((error, eventId) => {
      if (error) return reject(error);
      console.log(`${kind} ${eventId}`);
      return resolve();
    });
  });
}

let caught;
try {
  refund({ closed: true });
} catch (error) {
  caught = error;
}
send('exception', (done) => Raven.captureException(caught, done))
  .then(() => send('message', (done) => Raven.captureMessage('hello from raven-node', done)))
  .then(() => process.exit(0), (error) => {
    console.error(error);
    process.exit(1);
  });
