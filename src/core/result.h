// Error and Result<T>: how code that fails on user input reports it. An
// error carries where (file, line, column or byte offset) and what; the CLI
// renders it with a caret under the offending text.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace vigil {

struct SourcePos {
  std::uint32_t line = 1;    // 1-based
  std::uint32_t column = 1;  // 1-based, in bytes
  std::uint32_t offset = 0;  // byte offset from the start of the text
  bool operator==(const SourcePos&) const = default;
};

struct Error {
  std::string code;     // stable identifier, e.g. "eql.syntax"
  std::string message;  // what is wrong and what to do
  SourcePos pos;
  std::uint32_t length = 1;  // bytes the caret underlines
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}        // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Renders "file:line:col: error: message" plus the source line and a caret.
std::string format_error(const Error& error, std::string_view file, std::string_view text);

}  // namespace vigil
