// rookery::core — errors as values on the data plane.
// A minimal std::expected stand-in (C++23 is not available with g++ 12's -std=c++20).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace rookery {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
Unexpected<std::decay_t<E>> MakeUnexpected(E&& error) {
  return {std::forward<E>(error)};
}

template <class T, class E>
class Expected {
 public:
  Expected(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  template <class G>
  Expected(Unexpected<G> unexpected)  // NOLINT: implicit by design
      : storage_(std::in_place_index<1>, E(std::move(unexpected.error))) {}

  [[nodiscard]] bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& { return std::get<1>(storage_); }
  E& error() & { return std::get<1>(storage_); }

 private:
  std::variant<T, E> storage_;
};

}  // namespace rookery
