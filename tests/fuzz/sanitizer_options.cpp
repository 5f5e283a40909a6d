// Sanitizer defaults baked into the libFuzzer binaries, so that the documented one-line command
// needs no environment. Still overridable: UBSAN_OPTIONS=... takes precedence over these.
#ifndef ROOKERY_FUZZ_UBSAN_SUPPRESSIONS
#error "ROOKERY_FUZZ_UBSAN_SUPPRESSIONS must name tests/fuzz/ubsan.supp"
#endif

// halt_on_error: pointer-overflow is built recoverable (the only way UBSan honours suppressions),
// and an unsuppressed report must still stop the run and leave a crash file.
extern "C" const char* __ubsan_default_options() {  // NOLINT: the name is the sanitizer's API
  return "halt_on_error=1:print_stacktrace=1:suppressions=" ROOKERY_FUZZ_UBSAN_SUPPRESSIONS;
}
