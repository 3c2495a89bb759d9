#include "common/crypto/der.h"

namespace certfleet::crypto::der {

std::string Tlv(uint8_t tag, absl::string_view contents) {
  std::string out;
  out.reserve(contents.size() + 6);
  out.push_back(static_cast<char>(tag));
  const size_t n = contents.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else {
    // Long form (X.690 §8.1.3.5): 0x80 | number of length bytes.
    int bytes = 0;
    for (size_t v = n; v > 0; v >>= 8) ++bytes;
    out.push_back(static_cast<char>(0x80 | bytes));
    for (int i = bytes - 1; i >= 0; --i) {
      out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
  }
  out.append(contents.data(), contents.size());
  return out;
}

namespace {
std::string Join(std::initializer_list<absl::string_view> elements) {
  size_t size = 0;
  for (absl::string_view e : elements) size += e.size();
  std::string out;
  out.reserve(size);
  for (absl::string_view e : elements) out.append(e.data(), e.size());
  return out;
}
}  // namespace

std::string Sequence(std::initializer_list<absl::string_view> elements) {
  return Tlv(0x30, Join(elements));
}

std::string Set(std::initializer_list<absl::string_view> elements) {
  return Tlv(0x31, Join(elements));
}

std::string UnsignedInteger(absl::string_view magnitude) {
  size_t start = 0;
  while (start + 1 < magnitude.size() && magnitude[start] == '\0') ++start;
  absl::string_view m = magnitude.substr(start);
  std::string contents;
  if (m.empty()) {
    contents.push_back('\0');
  } else {
    if (static_cast<uint8_t>(m[0]) & 0x80) contents.push_back('\0');
    contents.append(m.data(), m.size());
  }
  return Tlv(0x02, contents);
}

std::string SmallInteger(uint8_t value) {
  return UnsignedInteger(std::string(1, static_cast<char>(value)));
}

std::string OctetString(absl::string_view bytes) { return Tlv(0x04, bytes); }

std::string BitString(absl::string_view bytes) {
  std::string contents(1, '\0');  // no unused bits
  contents.append(bytes.data(), bytes.size());
  return Tlv(0x03, contents);
}

std::string Null() { return std::string("\x05\x00", 2); }

std::string Oid(absl::string_view encoded) { return Tlv(0x06, encoded); }

std::string Utf8String(absl::string_view s) { return Tlv(0x0c, s); }

std::string Context(uint8_t n, bool constructed, absl::string_view contents) {
  return Tlv(static_cast<uint8_t>(0x80 | (constructed ? 0x20 : 0) | n),
             contents);
}

}  // namespace certfleet::crypto::der
