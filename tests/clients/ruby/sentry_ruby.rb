# sentry-ruby 5.x (Debian's ruby-sentry-ruby), unmodified: an exception with a backtrace, a message, and a
# message with 40 KB of extra data (sentry-ruby gzips envelopes above 30 KB, and sends an empty
# Content-Encoding below that).
# Usage: ruby sentry_ruby.rb <dsn>; prints "exception <id>", "message <id>" and "large <id>".
require "sentry-ruby"

Sentry.init do |config|
  config.dsn = ARGV[0]
  config.background_worker_threads = 0 # send synchronously: the ids printed are already delivered
  config.logger = Logger.new($stderr)
end

def charge(_amount)
  raise RuntimeError, "boom from ruby"
end

begin
  charge(42)
rescue RuntimeError => e
  puts "exception #{Sentry.capture_exception(e)&.event_id}"
end
puts "message #{Sentry.capture_message('hello from sentry-ruby')&.event_id}"
large = Sentry.capture_message("large event from sentry-ruby", extra: { blob: "x" * 40_000 })
puts "large #{large&.event_id}"
