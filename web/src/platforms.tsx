// The platforms a new project can pick, and how to point each one's SDK at Rookery. Rookery
// speaks Sentry's protocol, so these are the stock Sentry SDKs with the project's DSN.

export interface Platform {
  id: string;
  name: string;
  group: string;
  short: string; // the icon's letters
}

export const PLATFORMS: Platform[] = [
  { id: "python", name: "Python", group: "Python", short: "Py" },
  { id: "python-flask", name: "Flask", group: "Python", short: "Fl" },
  { id: "python-django", name: "Django", group: "Python", short: "Dj" },
  { id: "node", name: "Node.js", group: "JavaScript", short: "No" },
  { id: "node-express", name: "Express", group: "JavaScript", short: "Ex" },
  { id: "javascript", name: "Browser JavaScript", group: "JavaScript", short: "JS" },
  { id: "javascript-react", name: "React", group: "JavaScript", short: "Re" },
  { id: "ruby", name: "Ruby", group: "Ruby", short: "Rb" },
  { id: "ruby-rails", name: "Rails", group: "Ruby", short: "Ra" },
  { id: "go", name: "Go", group: "Other", short: "Go" },
  { id: "java", name: "Java", group: "Other", short: "Jv" },
  { id: "csharp", name: ".NET", group: "Other", short: ".N" },
  { id: "php", name: "PHP", group: "Other", short: "Ph" },
  { id: "native", name: "Native (C/C++)", group: "Other", short: "C+" },
];

export function platformName(id: string | null | undefined): string {
  return PLATFORMS.find((p) => p.id === id)?.name ?? (id || "Other");
}

export function PlatformIcon({ platform }: { platform?: string | null }) {
  const p = PLATFORMS.find((x) => x.id === platform);
  const family = (platform ?? "other").split("-")[0];
  return (
    <span className={`platform-icon platform-${family}`} aria-hidden="true">
      {p?.short ?? "?"}
    </span>
  );
}

export interface Step {
  title: string;
  text?: string;
  language?: string;
  code?: string;
}

export interface Guide {
  steps: Step[];
  legacy?: { title: string; text: string; steps: Step[] };
}

const verify = (language: string, code: string): Step => ({
  title: "Verify",
  text: "Send a test error; it shows up under Issues within seconds.",
  language,
  code,
});

function pythonLegacy(secretDsn: string, framework: "flask" | "django" = "flask"): Guide["legacy"] {
  const app: Step =
    framework === "django"
      ? {
          title: "Django",
          text: "In settings.py: add raven's Django app and give it the DSN in RAVEN_CONFIG.",
          language: "python",
          code: `# settings.py
INSTALLED_APPS = [
    # ...
    "raven.contrib.django.raven_compat",
]

RAVEN_CONFIG = {
    "dsn": "${secretDsn}",
}`,
        }
      : {
          title: "Flask",
          language: "python",
          code: `from flask import Flask
from raven.contrib.flask import Sentry

app = Flask(__name__)
sentry = Sentry(app, dsn="${secretDsn}")`,
        };
  return {
    title: "Legacy: raven-python",
    text:
      "Older applications that still use the raven client work unchanged: raven speaks the legacy store protocol, " +
      "which Rookery accepts. raven predates public-only DSNs, so it gets the DSN with the secret.",
    steps: [
      { title: "Install", language: "shell", code: framework === "django" ? "pip install raven" : "pip install 'raven[flask]'" },
      app,
      {
        title: "gunicorn's error log",
        text:
          `Crashes of the server itself (a worker timing out or failing to boot) never reach ${framework === "django" ? "Django" : "Flask"}: they are ` +
          "logged to gunicorn.error. A SentryHandler at level CRITICAL on that logger sends them, and only them. " +
          "Put it in gunicorn.conf.py (on_starting runs in the master, and forked workers inherit the handler):",
        language: "python",
        code: `# gunicorn.conf.py
import logging

from raven.handlers.logging import SentryHandler


def on_starting(server):
    handler = SentryHandler("${secretDsn}")
    handler.setLevel(logging.CRITICAL)
    logging.getLogger("gunicorn.error").addHandler(handler)`,
      },
    ],
  };
}

export function guideFor(platform: string, dsn: string, secretDsn: string): Guide {
  switch (platform) {
    case "python":
    case "python-flask":
      return {
        steps: [
          { title: "Install", language: "shell", code: "pip install --upgrade 'sentry-sdk[flask]'" },
          {
            title: "Configure",
            text: "Initialise the SDK before the Flask app is created; FlaskIntegration reports unhandled exceptions and request data.",
            language: "python",
            code: `import sentry_sdk
from sentry_sdk.integrations.flask import FlaskIntegration
from flask import Flask

sentry_sdk.init(
    dsn="${dsn}",
    integrations=[FlaskIntegration()],
    environment="production",
    send_default_pii=False,
)

app = Flask(__name__)`,
          },
          verify(
            "python",
            `import sentry_sdk
sentry_sdk.init("${dsn}")
division_by_zero = 1 / 0`,
          ),
        ],
        legacy: pythonLegacy(secretDsn),
      };
    case "python-django":
      return {
        steps: [
          { title: "Install", language: "shell", code: "pip install --upgrade 'sentry-sdk[django]'" },
          {
            title: "Configure",
            text: "In settings.py; the Django integration is enabled automatically.",
            language: "python",
            code: `import sentry_sdk

sentry_sdk.init(
    dsn="${dsn}",
    send_default_pii=False,
)`,
          },
          verify("python", `# urls.py\ndef trigger_error(request):\n    division_by_zero = 1 / 0\n\nurlpatterns = [path("sentry-debug/", trigger_error)]`),
        ],
        legacy: pythonLegacy(secretDsn, "django"),
      };
    case "node":
      return {
        steps: [
          { title: "Install", language: "shell", code: "npm install --save @sentry/node" },
          {
            title: "Configure",
            text: "Create instrument.mjs and load it before anything else: node --import ./instrument.mjs app.mjs",
            language: "javascript",
            code: `// instrument.mjs
import * as Sentry from "@sentry/node";

Sentry.init({
  dsn: "${dsn}",
  tracesSampleRate: 0,
});`,
          },
          verify("javascript", `try {\n  undefinedFunction();\n} catch (e) {\n  Sentry.captureException(e);\n}`),
        ],
      };
    case "node-express":
      return {
        steps: [
          { title: "Install", language: "shell", code: "npm install --save @sentry/node" },
          {
            title: "Configure",
            text: "Create instrument.mjs and load it before anything else: node --import ./instrument.mjs app.mjs",
            language: "javascript",
            code: `// instrument.mjs
import * as Sentry from "@sentry/node";

Sentry.init({ dsn: "${dsn}" });`,
          },
          {
            title: "Error handler",
            text: "After all routes, before your own error middleware:",
            language: "javascript",
            code: `import * as Sentry from "@sentry/node";
import express from "express";

const app = express();
// ... routes ...
Sentry.setupExpressErrorHandler(app);`,
          },
          verify("javascript", `app.get("/debug-sentry", () => {\n  throw new Error("My first Rookery error!");\n});`),
        ],
      };
    case "javascript":
      return {
        steps: [
          { title: "Install", language: "shell", code: "npm install --save @sentry/browser" },
          {
            title: "Configure",
            text: "As early as possible in your bundle. Add your site's origin to the key's allowed origins if you restrict them.",
            language: "javascript",
            code: `import * as Sentry from "@sentry/browser";

Sentry.init({
  dsn: "${dsn}",
});`,
          },
          verify("javascript", `myUndefinedFunction();`),
        ],
      };
    case "javascript-react":
      return {
        steps: [
          { title: "Install", language: "shell", code: "npm install --save @sentry/react" },
          {
            title: "Configure",
            language: "javascript",
            code: `import * as Sentry from "@sentry/react";
import { createRoot } from "react-dom/client";

Sentry.init({ dsn: "${dsn}" });

const root = createRoot(document.getElementById("root"), {
  onUncaughtError: Sentry.reactErrorHandler(),
  onCaughtError: Sentry.reactErrorHandler(),
});`,
          },
          verify("javascript", `<button onClick={() => { throw new Error("This is your first error!"); }}>Break the world</button>`),
        ],
      };
    case "ruby":
      return {
        steps: [
          { title: "Install", language: "shell", code: `gem install sentry-ruby` },
          {
            title: "Configure",
            language: "ruby",
            code: `require "sentry-ruby"

Sentry.init do |config|
  config.dsn = "${dsn}"
end`,
          },
          verify("ruby", `begin\n  1 / 0\nrescue ZeroDivisionError => exception\n  Sentry.capture_exception(exception)\nend`),
        ],
        legacy: {
          title: "Legacy: sentry-raven",
          text: "Applications on the old raven gem keep working; give it the DSN with the secret.",
          steps: [{ title: "Configure", language: "ruby", code: `Raven.configure do |config|\n  config.dsn = "${secretDsn}"\nend` }],
        },
      };
    case "ruby-rails":
      return {
        steps: [
          { title: "Install", text: "In your Gemfile, then bundle install:", language: "ruby", code: `gem "sentry-ruby"\ngem "sentry-rails"` },
          {
            title: "Configure",
            text: "config/initializers/sentry.rb:",
            language: "ruby",
            code: `Sentry.init do |config|
  config.dsn = "${dsn}"
  config.breadcrumbs_logger = [:active_support_logger, :http_logger]
end`,
          },
          verify("ruby", `# any controller action\nraise "My first Rookery error!"`),
        ],
      };
    case "go":
      return {
        steps: [
          { title: "Install", language: "shell", code: "go get github.com/getsentry/sentry-go" },
          {
            title: "Configure",
            language: "go",
            code: `err := sentry.Init(sentry.ClientOptions{
	Dsn: "${dsn}",
})
if err != nil {
	log.Fatalf("sentry.Init: %s", err)
}
defer sentry.Flush(2 * time.Second)`,
          },
          verify("go", `sentry.CaptureException(errors.New("my first Rookery error"))`),
        ],
      };
    case "java":
      return {
        steps: [
          { title: "Install", text: "Gradle:", language: "groovy", code: `implementation 'io.sentry:sentry:7.+'` },
          {
            title: "Configure",
            language: "java",
            code: `import io.sentry.Sentry;

Sentry.init(options -> {
  options.setDsn("${dsn}");
});`,
          },
          verify("java", `try {\n  throw new Exception("This is a test.");\n} catch (Exception e) {\n  Sentry.captureException(e);\n}`),
        ],
      };
    case "csharp":
      return {
        steps: [
          { title: "Install", language: "shell", code: "dotnet add package Sentry" },
          {
            title: "Configure",
            language: "csharp",
            code: `using Sentry;

SentrySdk.Init(options =>
{
    options.Dsn = "${dsn}";
});`,
          },
          verify("csharp", `try\n{\n    throw null;\n}\ncatch (Exception ex)\n{\n    SentrySdk.CaptureException(ex);\n}`),
        ],
      };
    case "php":
      return {
        steps: [
          { title: "Install", language: "shell", code: "composer require sentry/sentry" },
          { title: "Configure", language: "php", code: `\\Sentry\\init(['dsn' => '${dsn}']);` },
          verify("php", `try {\n  thisFunctionFails();\n} catch (\\Throwable $exception) {\n  \\Sentry\\captureException($exception);\n}`),
        ],
      };
    case "native":
    default:
      return {
        steps: [
          {
            title: "Install",
            text: "Build sentry-native (github.com/getsentry/sentry-native) with CMake and link it.",
            language: "shell",
            code: "cmake -B build -D SENTRY_BACKEND=crashpad && cmake --build build --parallel",
          },
          {
            title: "Configure",
            language: "c",
            code: `#include <sentry.h>

int main(void) {
  sentry_options_t *options = sentry_options_new();
  sentry_options_set_dsn(options, "${dsn}");
  sentry_options_set_database_path(options, ".sentry-native");
  sentry_init(options);

  /* ... your application ... */

  sentry_close();
}`,
          },
          verify("c", `sentry_capture_event(sentry_value_new_message_event(\n    SENTRY_LEVEL_INFO, "custom", "It works!"));`),
        ],
      };
  }
}
