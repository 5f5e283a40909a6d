// The page's application code. index.html?dsn=<dsn>
// window.__sentryEvents: what the SDK is about to send (from beforeSend, so the test learns the event ids).
// window.__sentrySends: how each send ended as the SDK's own fetch transport saw it: the status code when
// the browser let the page read the relay's answer (CORS allowed it), an error when it did not.
(function () {
  'use strict';
  window.__sentryEvents = [];
  window.__sentrySends = [];

  Sentry.init({
    dsn: new URLSearchParams(location.search).get('dsn'),
    beforeSend: function (event) {
      var exception = event.exception && event.exception.values && event.exception.values[0];
      window.__sentryEvents.push({
        id: event.event_id,
        type: exception ? exception.type || null : null,
        value: exception ? exception.value || null : null,
        message: event.message || null,
      });
      return event;
    },
    // The SDK's own fetch transport, observed (not replaced): the page learns what the browser let it see.
    transport: function (options) {
      var inner = Sentry.makeFetchTransport(options);
      return {
        send: function (envelope) {
          var itemType = envelope[1][0] && envelope[1][0][0].type;
          return inner.send(envelope).then(function (response) {
            window.__sentrySends.push({ item: itemType, statusCode: response.statusCode });
            return response;
          }, function (error) {
            window.__sentrySends.push({ item: itemType, error: String(error) });
            throw error;
          });
        },
        flush: function (timeout) { return inner.flush(timeout); },
      };
    },
  });

  function applyCoupon(cart) {
    if (!cart.coupon) throw new RangeError('boom from the browser');
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.getElementById('checkout').addEventListener('click', function () {
      applyCoupon({}); // uncaught: the SDK's global handlers report it
    });
    window.__ready = true;
  });
})();
