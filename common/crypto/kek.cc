#include "common/crypto/kek.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/encoding.h"
#include "common/crypto/openssl_util.h"
#include "common/status_macros.h"

namespace certfleet::crypto {

using internal::OpenSslDeleter;
using internal::OpenSslError;

struct Kek::Secret {
  ~Secret() { OPENSSL_cleanse(key.data(), key.size()); }
  std::string key;
  std::string id;  // 8 raw bytes.
};

namespace {

using CipherCtxPtr =
    std::unique_ptr<EVP_CIPHER_CTX,
                    OpenSslDeleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;

constexpr absl::string_view kMagic = "cfk1";
constexpr size_t kIdSize = 8;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kHeaderSize = 4 + kIdSize + kNonceSize;

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

unsigned char* Bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}
const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Kek Kek::FromBytes(std::string key32) {
  if (key32.size() != kKeySize) {
    fprintf(stderr, "Kek::FromBytes: key is %zu bytes, want %zu\n",
            key32.size(), kKeySize);
    abort();
  }
  auto secret = std::make_shared<Secret>();
  secret->id = Sha256(key32).substr(0, kIdSize);
  secret->key = std::move(key32);
  return Kek(std::move(secret));
}

absl::StatusOr<Kek> Kek::LoadOrCreate(const std::string& path, Filesystem& fs) {
  ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
  if (!info.exists) {
    const std::string dir = DirName(path);
    if (!dir.empty()) {
      RETURN_IF_ERROR(Annotate(fs.MakeDirs(dir, 0700),
                               "create directory for key-encryption key"));
    }
    std::string key = RandomBytes(kKeySize);
    // Exclusive: coordinators starting together on one file must end with
    // the same key, not each with its own (the loser reads the winner's).
    const absl::Status created = fs.WriteFileExclusive(path, key, 0600);
    if (created.ok()) return FromBytes(std::move(key));
    OPENSSL_cleanse(key.data(), key.size());
    if (!absl::IsAlreadyExists(created)) {
      return Annotate(created, "create key-encryption key");
    }
    ASSIGN_OR_RETURN(info, fs.Stat(path));
  }
  if (info.is_directory) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key-encryption key ", path, " is a directory; it must be a file"));
  }
  // Group/other access of any kind means the key may already have leaked or
  // could be swapped by someone else; refuse rather than fix it silently.
  if ((info.mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "key-encryption key %s has mode %04o; it must not be readable by "
        "group or others (chmod 600 %s)",
        path, info.mode & 07777, path));
  }
  ASSIGN_OR_RETURN(std::string key, fs.ReadFile(path));
  if (key.size() != kKeySize) {
    const size_t size = key.size();
    OPENSSL_cleanse(key.data(), key.size());
    return absl::FailedPreconditionError(absl::StrCat(
        "key-encryption key ", path, " is ", size,
        " bytes; it must be exactly ", kKeySize, " raw random bytes"));
  }
  return FromBytes(std::move(key));
}

absl::StatusOr<std::string> Kek::Seal(absl::string_view plaintext,
                                      absl::string_view aad) const {
  const std::string nonce = RandomBytes(kNonceSize);
  std::string out;
  out.reserve(kHeaderSize + plaintext.size() + kTagSize);
  out.append(kMagic.data(), kMagic.size());
  out.append(secret_->id);
  out.append(nonce);
  const size_t ct_offset = out.size();
  out.resize(ct_offset + plaintext.size() + kTagSize);

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), Bytes(secret_->key),
                          Bytes(nonce), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), Bytes(out) + ct_offset, &len,
                        Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), Bytes(out) + ct_offset + len,
                          &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          Bytes(out) + ct_offset + plaintext.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "AES-256-GCM seal");
  }
  return out;
}

absl::StatusOr<std::string> Kek::Open(absl::string_view sealed,
                                      absl::string_view aad) const {
  if (sealed.size() < kHeaderSize + kTagSize ||
      sealed.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError(
        absl::StrCat("not a sealed certfleet key (", sealed.size(),
                     " bytes without the \"cfk1\" header)"));
  }
  const absl::string_view id = sealed.substr(kMagic.size(), kIdSize);
  if (id != secret_->id) {
    return absl::FailedPreconditionError(
        absl::StrCat("sealed under a different key-encryption key (id ",
                     HexEncode(id), ", this key is ", KeyId(), ")"));
  }
  const absl::string_view nonce =
      sealed.substr(kMagic.size() + kIdSize, kNonceSize);
  const absl::string_view ciphertext =
      sealed.substr(kHeaderSize, sealed.size() - kHeaderSize - kTagSize);
  std::string tag(sealed.substr(sealed.size() - kTagSize));

  std::string out(ciphertext.size(), '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), Bytes(secret_->key),
                          Bytes(nonce), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(out), &len, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          Bytes(tag)) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "AES-256-GCM open");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(out) + len, &final_len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    internal::DrainOpenSslErrors();
    return absl::DataLossError(
        "authentication failed (wrong key-encryption key or tampered data)");
  }
  return out;
}

std::string Kek::KeyId() const { return HexEncode(secret_->id); }

}  // namespace certfleet::crypto
