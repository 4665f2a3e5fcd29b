// Value: the typed value of one field of one event (or of an expression).
// Sixteen bytes, trivially copyable; strings and arrays are views into the
// batch arena or the input buffer, so copying a Value never allocates.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace vigil {

enum class ValueKind : std::uint8_t { Null, Bool, Int, Float, String, Ip, Array };

std::string_view kind_name(ValueKind kind);

class Value {
 public:
  constexpr Value() : kind_(ValueKind::Null), size_(0), int_(0) {}
  static constexpr Value null() { return Value(); }
  static Value boolean(bool b) {
    Value v;
    v.kind_ = ValueKind::Bool;
    v.int_ = b ? 1 : 0;
    return v;
  }
  static Value integer(std::int64_t i) {
    Value v;
    v.kind_ = ValueKind::Int;
    v.int_ = i;
    return v;
  }
  static Value floating(double f) {
    Value v;
    v.kind_ = ValueKind::Float;
    v.float_ = f;
    return v;
  }
  static Value string(std::string_view s) { return text(ValueKind::String, s); }
  // An IP address keeps its text; comparisons normalize it (see ip_equal()).
  static Value ip(std::string_view s) { return text(ValueKind::Ip, s); }
  static Value array(std::span<const Value> items) {
    Value v;
    v.kind_ = ValueKind::Array;
    v.size_ = static_cast<std::uint32_t>(items.size());
    v.array_ = items.data();
    return v;
  }

  ValueKind kind() const { return kind_; }
  bool is_null() const { return kind_ == ValueKind::Null; }
  bool is_numeric() const { return kind_ == ValueKind::Int || kind_ == ValueKind::Float; }
  bool is_text() const { return kind_ == ValueKind::String || kind_ == ValueKind::Ip; }

  bool as_bool() const { return int_ != 0; }
  std::int64_t as_int() const { return int_; }
  double as_float() const { return float_; }
  double as_double() const { return kind_ == ValueKind::Int ? static_cast<double>(int_) : float_; }
  std::string_view as_string() const { return {string_, size_}; }
  std::span<const Value> as_array() const { return {array_, size_}; }

 private:
  static Value text(ValueKind kind, std::string_view s) {
    Value v;
    v.kind_ = kind;
    v.size_ = static_cast<std::uint32_t>(s.size());
    v.string_ = s.data();
    return v;
  }

  ValueKind kind_;
  std::uint32_t size_;
  union {
    std::int64_t int_;
    double float_;
    const char* string_;
    const Value* array_;
  };
};

static_assert(sizeof(Value) == 16);

// Appends the JSON rendering of `v` to `out`.
void append_json(std::string& out, const Value& v);
// Appends the text form EQL's string() produces (no quotes for strings).
void append_text(std::string& out, const Value& v);
// Appends `s` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);
// The same, as a string of its own: "\"text\"".
std::string json_string(std::string_view s);

// Calls fn(std::string_view) for the text of `v`, or of each text element of an array.
template <typename Fn>
void for_each_text(const Value& v, Fn&& fn) {
  if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) {
      if (x.is_text()) fn(x.as_string());
    }
  } else if (v.is_text()) {
    fn(v.as_string());
  }
}

}  // namespace vigil
