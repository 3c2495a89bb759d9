#include "coordinator/dns/tsig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "coordinator/dns/dns_name.h"

namespace certfleet::dns {
namespace {

constexpr uint16_t kTypeTsig = 250;
constexpr uint16_t kClassAny = 255;
constexpr uint16_t kFudgeSeconds = 300;  // RFC 8945 §10 recommends 300

const EVP_MD* DigestFor(absl::string_view algorithm) {
  if (algorithm == "hmac-sha256.") return EVP_sha256();
  if (algorithm == "hmac-sha384.") return EVP_sha384();
  if (algorithm == "hmac-sha512.") return EVP_sha512();
  return nullptr;
}

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

void PutU32(std::string* out, uint32_t v) {
  PutU16(out, v >> 16);
  PutU16(out, v & 0xffff);
}

void PutU48(std::string* out, uint64_t v) {
  PutU16(out, (v >> 32) & 0xffff);
  PutU32(out, v & 0xffffffff);
}

// Canonical wire form (RFC 4034 §6.2: lower case, uncompressed).
std::string NameToWire(absl::string_view canonical) {
  std::string out;
  for (absl::string_view label : absl::StrSplit(canonical, '.')) {
    if (label.empty()) continue;
    out.push_back(static_cast<char>(label.size()));
    out.append(absl::AsciiStrToLower(label));
  }
  out.push_back('\0');
  return out;
}

// A bounds-checked reader over a DNS message.
class WireReader {
 public:
  explicit WireReader(absl::string_view msg) : msg_(msg) {}
  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }
  bool ok() const { return ok_; }

  uint64_t Read(int bytes) {
    uint64_t v = 0;
    if (pos_ + bytes > msg_.size()) {
      ok_ = false;
      return 0;
    }
    for (int i = 0; i < bytes; ++i) {
      v = (v << 8) | static_cast<uint8_t>(msg_[pos_++]);
    }
    return v;
  }
  absl::string_view Bytes(size_t n) {
    if (pos_ + n > msg_.size()) {
      ok_ = false;
      return {};
    }
    absl::string_view s = msg_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // Reads a possibly compressed name (RFC 1035 §4.1.4) as canonical text.
  std::string Name() {
    std::string out;
    size_t p = pos_;
    bool jumped = false;
    for (int guard = 0; guard < 128; ++guard) {
      if (p >= msg_.size()) break;
      const uint8_t len = static_cast<uint8_t>(msg_[p]);
      if ((len & 0xc0) == 0xc0) {
        if (p + 1 >= msg_.size()) break;
        if (!jumped) pos_ = p + 2;
        jumped = true;
        p = ((len & 0x3f) << 8) | static_cast<uint8_t>(msg_[p + 1]);
        continue;
      }
      if (len == 0) {
        if (!jumped) pos_ = p + 1;
        return out.empty() ? "." : absl::AsciiStrToLower(out);
      }
      if (p + 1 + len > msg_.size()) break;
      out.append(msg_.data() + p + 1, len);
      out.push_back('.');
      p += 1 + len;
    }
    ok_ = false;
    return "";
  }

 private:
  absl::string_view msg_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::string Hmac(const EVP_MD* md, const std::string& secret,
                 const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// RFC 8945 §4.3.3: the TSIG variables that follow the message in the digest.
std::string TsigVariables(const TsigKey& key, uint64_t time_signed,
                          uint16_t fudge, uint16_t error,
                          absl::string_view other) {
  std::string v = NameToWire(key.name);
  PutU16(&v, kClassAny);
  PutU32(&v, 0);
  v += NameToWire(key.algorithm);
  PutU48(&v, time_signed);
  PutU16(&v, fudge);
  PutU16(&v, error);
  PutU16(&v, static_cast<uint16_t>(other.size()));
  v.append(other.data(), other.size());
  return v;
}

}  // namespace

std::string TsigErrorName(uint16_t error) {
  switch (error) {
    case 0:
      return "NOERROR";
    case kTsigBadSig:
      return "BADSIG";
    case kTsigBadKey:
      return "BADKEY";
    case kTsigBadTime:
      return "BADTIME";
    case 19:
      return "BADMODE";
    case 20:
      return "BADNAME";
    case 21:
      return "BADALG";
    case 22:
      return "BADTRUNC";
    default:
      return absl::StrCat("TSIG error ", error);
  }
}

absl::StatusOr<TsigKey> TsigKey::Create(absl::string_view name,
                                        absl::string_view algorithm,
                                        absl::string_view secret_base64) {
  TsigKey key;
  if (name.empty()) {
    return absl::InvalidArgumentError("tsig_key_name is empty");
  }
  key.name = CanonicalName(name);
  key.algorithm = CanonicalName(algorithm);
  if (DigestFor(key.algorithm) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("tsig_algorithm \"", algorithm,
                     "\" is not one of hmac-sha256, hmac-sha384, hmac-sha512"));
  }
  if (secret_base64.empty() ||
      !absl::Base64Unescape(secret_base64, &key.secret) || key.secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tsig_secret for key \"", name, "\" is not base64"));
  }
  return key;
}

absl::StatusOr<std::string> TsigSign(const TsigKey& key, absl::Time now,
                                     std::string* message,
                                     absl::string_view request_mac) {
  const EVP_MD* md = DigestFor(key.algorithm);
  if (md == nullptr || message->size() < 12) {
    return absl::InvalidArgumentError("cannot sign: bad key or message");
  }
  const uint64_t time_signed = absl::ToUnixSeconds(now);
  std::string digest;
  if (!request_mac.empty()) {
    PutU16(&digest, static_cast<uint16_t>(request_mac.size()));
    digest.append(request_mac.data(), request_mac.size());
  }
  digest += *message;
  digest += TsigVariables(key, time_signed, kFudgeSeconds, 0, "");
  const std::string mac = Hmac(md, key.secret, digest);

  std::string rdata = NameToWire(key.algorithm);
  PutU48(&rdata, time_signed);
  PutU16(&rdata, kFudgeSeconds);
  PutU16(&rdata, static_cast<uint16_t>(mac.size()));
  rdata += mac;
  rdata.append(message->substr(0, 2));  // original ID
  PutU16(&rdata, 0);                    // error
  PutU16(&rdata, 0);                    // other len

  std::string rr = NameToWire(key.name);
  PutU16(&rr, kTypeTsig);
  PutU16(&rr, kClassAny);
  PutU32(&rr, 0);
  PutU16(&rr, static_cast<uint16_t>(rdata.size()));
  rr += rdata;

  uint16_t arcount = (static_cast<uint8_t>((*message)[10]) << 8) |
                     static_cast<uint8_t>((*message)[11]);
  ++arcount;
  (*message)[10] = static_cast<char>(arcount >> 8);
  (*message)[11] = static_cast<char>(arcount & 0xff);
  *message += rr;
  return mac;
}

TsigResult TsigVerifyResponse(const TsigKey& key, absl::string_view request_mac,
                              absl::string_view reply, absl::Time now) {
  TsigResult result;
  WireReader r(reply);
  r.set_pos(4);
  const uint64_t qd = r.Read(2), an = r.Read(2), ns = r.Read(2), ar = r.Read(2);
  if (!r.ok() || ar == 0) {
    result.problem = "reply is not signed";
    return result;
  }
  for (uint64_t i = 0; i < qd && r.ok(); ++i) {
    r.Name();
    r.Read(4);
  }
  size_t last_start = 0;
  for (uint64_t i = 0; i < an + ns + ar && r.ok(); ++i) {
    last_start = r.pos();
    r.Name();
    r.Read(8);
    r.Bytes(r.Read(2));
  }
  if (!r.ok()) {
    result.problem = "reply is malformed";
    return result;
  }
  r.set_pos(last_start);
  const std::string owner = r.Name();
  const uint64_t type = r.Read(2);
  r.Read(8);  // class, TTL, RDLENGTH
  if (!r.ok() || type != kTypeTsig) {
    result.problem = "reply is not signed";
    return result;
  }
  const std::string algorithm = r.Name();
  const uint64_t time_signed = r.Read(6);
  const uint16_t fudge = static_cast<uint16_t>(r.Read(2));
  const absl::string_view mac = r.Bytes(r.Read(2));
  const absl::string_view original_id = r.Bytes(2);
  const uint16_t error = static_cast<uint16_t>(r.Read(2));
  const absl::string_view other = r.Bytes(r.Read(2));
  if (!r.ok()) {
    result.problem = "reply has a malformed TSIG record";
    return result;
  }
  result.present = true;
  result.error = error;
  if (error != 0) {
    result.problem = absl::StrCat("TSIG error ", TsigErrorName(error));
    return result;
  }
  if (owner != key.name || algorithm != key.algorithm) {
    result.problem = absl::StrCat("reply is signed with key ", owner, " (",
                                  algorithm, "), not ", key.name);
    return result;
  }
  std::string digest;
  PutU16(&digest, static_cast<uint16_t>(request_mac.size()));
  digest.append(request_mac.data(), request_mac.size());
  std::string unsigned_reply(reply.substr(0, last_start));
  unsigned_reply.replace(0, 2, original_id.data(), original_id.size());
  const uint16_t arcount = static_cast<uint16_t>(ar - 1);
  unsigned_reply[10] = static_cast<char>(arcount >> 8);
  unsigned_reply[11] = static_cast<char>(arcount & 0xff);
  digest += unsigned_reply;
  digest += TsigVariables(key, time_signed, fudge, error, other);
  const std::string expected =
      Hmac(DigestFor(key.algorithm), key.secret, digest);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) != 0) {
    result.problem = "reply's TSIG MAC does not verify";
    return result;
  }
  const int64_t skew =
      absl::ToUnixSeconds(now) - static_cast<int64_t>(time_signed);
  if (std::llabs(skew) > fudge) {
    result.problem = absl::StrCat("reply's TSIG time is ", skew,
                                  " s off (fudge ", fudge, " s)");
    return result;
  }
  result.verified = true;
  return result;
}

}  // namespace certfleet::dns
