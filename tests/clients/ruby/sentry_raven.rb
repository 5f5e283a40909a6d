# sentry-raven 3.x (Debian's ruby-sentry-raven, the deprecated Raven client), unmodified: an exception with
# a backtrace and a message. Usage: ruby sentry_raven.rb <dsn>; prints "exception <id>" and "message <id>".
require "logger"
require "raven"

Raven.configure do |config|
  config.dsn = ARGV[0]
  config.async = false # the default: send synchronously, so the ids printed are already delivered
  config.logger = Logger.new($stderr)
  config.silence_ready = true
end

def refund(_order)
  raise ArgumentError, "bad refund from raven-ruby"
end

begin
  refund(42)
rescue ArgumentError => e
  event = Raven.capture_exception(e)
  puts "exception #{event && event.id}"
end
event = Raven.capture_message("hello from sentry-raven")
puts "message #{event && event.id}"
