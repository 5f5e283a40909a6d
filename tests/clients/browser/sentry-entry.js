// The bundle the browser test loads as a classic <script>: @sentry/browser, unmodified, as window.Sentry
// (what the CDN bundle provides). Built by esbuild (see run_browser.js).
export * from '@sentry/browser';
