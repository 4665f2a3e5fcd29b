// Encoder / Decoder: the binary form vigil keeps things in (the parsed-rule
// cache, stream checkpoints). Integers are zigzag varints, doubles their 8
// bytes, strings and containers length-prefixed; a struct is encoded as the
// members its `members(T&)` overload (found by argument-dependent lookup,
// i.e. declared in the struct's namespace) ties together, so one list serves
// both directions. Decoding checks every length and stops at the first
// inconsistency (ok() false): bytes it did not write give nothing back.
#pragma once

#include <bit>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vigil {

namespace codec_detail {
template <typename T>
struct is_sequence : std::false_type {};
template <typename T>
struct is_sequence<std::vector<T>> : std::true_type {};
template <typename T>
struct is_sequence<std::deque<T>> : std::true_type {};
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename T>
struct is_pair : std::false_type {};
template <typename A, typename B>
struct is_pair<std::pair<A, B>> : std::true_type {};
template <typename T>
concept Mapping = requires { typename T::key_type; typename T::mapped_type; };
}  // namespace codec_detail

// Types match exactly (const aside): members(Unqualified<Rule> auto& r).
template <typename T, typename U>
concept Unqualified = std::is_same_v<std::remove_const_t<T>, U>;

class Encoder;
class Decoder;

// A type the generic rules do not cover (shared pointers into a table, ...)
// is handled by `encode_value(Encoder&, const T&)` / `decode_value(Decoder&, T&)`
// overloads found by argument-dependent lookup; `context` carries what they
// need (set by whoever starts the encoding).
template <typename T>
concept CustomEncoded = requires(Encoder& e, const T& v) { encode_value(e, v); };
template <typename T>
concept CustomDecoded = requires(Decoder& d, T& v) { decode_value(d, v); };

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  void* context = nullptr;

  template <typename T>
  void operator()(const T& v) {
    using namespace codec_detail;
    if constexpr (CustomEncoded<T>) {
      encode_value(*this, v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      varint(v.size());
      out_ += v;
    } else if constexpr (std::is_same_v<T, bool>) {
      out_.push_back(v ? 1 : 0);
    } else if constexpr (std::is_integral_v<T>) {
      const auto s = static_cast<std::int64_t>(v);
      varint((static_cast<std::uint64_t>(s) << 1) ^ static_cast<std::uint64_t>(s >> 63));  // zigzag
    } else if constexpr (std::is_same_v<T, double>) {
      const auto bits = std::bit_cast<std::uint64_t>(v);
      for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
    } else if constexpr (is_sequence<T>::value) {
      varint(v.size());
      for (const auto& item : v) (*this)(item);
    } else if constexpr (is_optional<T>::value) {
      (*this)(v.has_value());
      if (v) (*this)(*v);
    } else if constexpr (is_pair<T>::value) {
      (*this)(v.first);
      (*this)(v.second);
    } else if constexpr (Mapping<T>) {
      varint(v.size());
      for (const auto& [key, value] : v) {
        (*this)(key);
        (*this)(value);
      }
    } else {
      std::apply([this](const auto&... m) { ((*this)(m), ...); }, members(v));
    }
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }

 private:
  std::string& out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  void* context = nullptr;
  bool ok() const { return ok_; }
  bool at_end() const { return in_.empty(); }
  void fail() { ok_ = false; }

  template <typename T>
  void operator()(T& v) {
    using namespace codec_detail;
    if (!ok_) return;
    if constexpr (CustomDecoded<T>) {
      decode_value(*this, v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      std::uint64_t n = varint();
      if (n > in_.size()) return fail();
      v.assign(in_.substr(0, n));
      in_.remove_prefix(n);
    } else if constexpr (std::is_same_v<T, bool>) {
      if (in_.empty() || static_cast<std::uint8_t>(in_[0]) > 1) return fail();
      v = in_[0] == 1;
      in_.remove_prefix(1);
    } else if constexpr (std::is_integral_v<T>) {
      std::uint64_t z = varint();
      const auto s = static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
      if (!std::in_range<T>(s)) return fail();
      v = static_cast<T>(s);
    } else if constexpr (std::is_same_v<T, double>) {
      if (in_.size() < 8) return fail();
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits |= std::uint64_t{static_cast<std::uint8_t>(in_[i])} << (8 * i);
      in_.remove_prefix(8);
      v = std::bit_cast<double>(bits);
    } else if constexpr (is_sequence<T>::value) {
      std::uint64_t n = varint();
      if (n > in_.size()) return fail();  // every item takes at least one byte
      v.clear();
      v.resize(n);
      for (auto& item : v) (*this)(item);
    } else if constexpr (is_optional<T>::value) {
      bool present = false;
      (*this)(present);
      if (!present) {
        v.reset();
        return;
      }
      v.emplace();
      (*this)(*v);
    } else if constexpr (is_pair<T>::value) {
      (*this)(v.first);
      (*this)(v.second);
    } else if constexpr (Mapping<T>) {
      std::uint64_t n = varint();
      if (n > in_.size()) return fail();
      v.clear();
      for (std::uint64_t i = 0; i < n && ok_; ++i) {
        std::remove_const_t<typename T::key_type> key{};
        typename T::mapped_type value{};
        (*this)(key);
        (*this)(value);
        v.emplace(std::move(key), std::move(value));
      }
    } else {
      std::apply([this](auto&... m) { ((*this)(m), ...); }, members(v));
    }
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) break;
      const auto b = static_cast<std::uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= std::uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    fail();
    return 0;
  }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace vigil
