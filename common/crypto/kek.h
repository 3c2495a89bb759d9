// The key-encryption key (KEK) that seals certificate and account private
// keys at rest with AES-256-GCM. The KEK itself is 32 random bytes in a file
// only its owner may read.
//
// Sealed format (binary):
//   "cfk1" (4) || KEK id (8 raw bytes) || nonce (12) || ciphertext || tag (16)
// The id lets Open say "sealed under a different key" instead of a bare
// authentication failure when the KEK file was replaced.
//
//   LocalFilesystem fs;
//   ASSIGN_OR_RETURN(Kek kek, Kek::LoadOrCreate("/var/lib/certfleet/kek", fs));
//   ASSIGN_OR_RETURN(std::string sealed, kek.Seal(key_pem, cert_name));
//   ASSIGN_OR_RETURN(std::string pem, kek.Open(sealed, cert_name));
#ifndef CERTFLEET_COMMON_CRYPTO_KEK_H_
#define CERTFLEET_COMMON_CRYPTO_KEK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/filesystem.h"

namespace certfleet::crypto {

class Kek {
 public:
  // Size of the raw key in the KEK file.
  static constexpr size_t kKeySize = 32;

  // Reads the KEK at `path`, or creates it (parent directories mode 0700, the
  // file mode 0600, written atomically) when nothing is there.
  // kPermissionDenied when the existing file grants any group/other
  // permission; kFailedPrecondition when it is not exactly 32 bytes or is a
  // directory; the filesystem's error otherwise.
  static absl::StatusOr<Kek> LoadOrCreate(const std::string& path,
                                          Filesystem& fs);

  // A KEK from raw bytes (tests). Aborts unless `key32` is 32 bytes.
  static Kek FromBytes(std::string key32);

  // AES-256-GCM under a fresh random 12-byte nonce; `aad` (for example the
  // certificate name) is authenticated but not stored, so Open must be given
  // the same value.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext,
                                   absl::string_view aad) const;

  // Reverses Seal. kDataLoss "not a sealed certfleet key" for a bad magic or
  // short input; kFailedPrecondition when it was sealed under another KEK;
  // kDataLoss "authentication failed ..." when the tag or `aad` do not match.
  absl::StatusOr<std::string> Open(absl::string_view sealed,
                                   absl::string_view aad) const;

  // Lower-case hex of the first 8 bytes of SHA-256(key): safe to log.
  std::string KeyId() const;

 private:
  struct Secret;
  explicit Kek(std::shared_ptr<const Secret> secret)
      : secret_(std::move(secret)) {}

  std::shared_ptr<const Secret> secret_;
};

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_KEK_H_
