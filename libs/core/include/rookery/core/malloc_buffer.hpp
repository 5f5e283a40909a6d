// rookery::core — bytes in memory from std::malloc. librdkafka can take such a buffer over
// (RD_KAFKA_MSG_F_FREE) and free it after delivery, so a message value is written once and never
// copied on its way to the broker.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace rookery {

class MallocBuffer {
 public:
  MallocBuffer() = default;
  /// Throws std::bad_alloc when out of memory.
  explicit MallocBuffer(std::size_t size) : data_(static_cast<char*>(std::malloc(size == 0 ? 1 : size))), size_(size) {
    if (!data_) throw std::bad_alloc();
  }

  char* Data() const { return data_.get(); }
  std::size_t Size() const { return size_; }
  /// Hands the memory over; the new owner frees it with std::free.
  char* Release() { return data_.release(); }

 private:
  struct Free {
    void operator()(char* data) const { std::free(data); }
  };
  std::unique_ptr<char, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace rookery
