#include "agent/install/bundle_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/crypto/verify.h"
#include "common/status_macros.h"

namespace certfleet::agent {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Pkcs12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12, PKCS12_free>>;
void FreeX509Stack(STACK_OF(X509) * s) { sk_X509_free(s); }  // borrowed
using X509StackPtr =
    std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), FreeX509Stack>>;

// OpenSSL's error queue as one line.
std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error detail" : out;
}

// The first line of the password file, without its line ending.
absl::StatusOr<std::string> ReadPassword(Filesystem& fs,
                                         const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path));
  absl::string_view line = text;
  line = line.substr(0, line.find('\n'));
  absl::ConsumeSuffix(&line, "\r");
  if (line.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("password file ", path, ": the first line is empty"));
  }
  return std::string(line);
}

absl::StatusOr<std::string> Pkcs12(const VerifiedBundle& bundle,
                                   const std::string& password,
                                   const std::string& friendly_name) {
  X509StackPtr ca(sk_X509_new_null());
  for (const crypto::Certificate& c : bundle.intermediates) {
    sk_X509_push(ca.get(), c.raw());
  }
  // AES-256-CBC with PBKDF2 for both bags; no MAC here, so that the MAC's
  // digest can be chosen explicitly below (SHA-256, not SHA-1).
  Pkcs12Ptr p12(PKCS12_create(password.c_str(), friendly_name.c_str(),
                              bundle.key.raw(), bundle.leaf.raw(), ca.get(),
                              NID_aes_256_cbc, NID_aes_256_cbc,
                              PKCS12_DEFAULT_ITER, /*mac_iter=*/-1,
                              /*keytype=*/0));
  if (!p12) return absl::InternalError("PKCS12_create: " + OpenSslErrors());
  if (PKCS12_set_mac(p12.get(), password.c_str(), -1, nullptr, 0,
                     PKCS12_DEFAULT_ITER, EVP_sha256()) != 1) {
    return absl::InternalError("PKCS12_set_mac: " + OpenSslErrors());
  }
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new(BIO_s_mem()));
  if (!bio || i2d_PKCS12_bio(bio.get(), p12.get()) != 1) {
    return absl::InternalError("i2d_PKCS12_bio: " + OpenSslErrors());
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

absl::StatusOr<VerifiedBundle> VerifyBundle(const Bundle& bundle,
                                            const TargetSpec& spec,
                                            absl::Time now) {
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::FromPem(bundle.key_pem);
  if (!key.ok()) return Annotate(key.status(), "key");
  absl::StatusOr<crypto::Certificate> leaf =
      crypto::Certificate::FromPem(bundle.leaf_pem);
  if (!leaf.ok()) return Annotate(leaf.status(), "leaf");
  std::vector<crypto::Certificate> intermediates;
  if (!bundle.chain_pem.empty()) {
    absl::StatusOr<std::vector<crypto::Certificate>> chain =
        crypto::Certificate::ParsePemChain(bundle.chain_pem);
    if (!chain.ok()) return Annotate(chain.status(), "chain");
    intermediates = *std::move(chain);
  }
  RETURN_IF_ERROR(Annotate(crypto::CheckKeyMatches(*key, *leaf), "key"));
  // Validity before the chain: OpenSSL would also refuse an expired leaf,
  // but in less direct words.
  RETURN_IF_ERROR(Annotate(crypto::CheckValidAt(*leaf, now), "validity"));
  absl::Status chain =
      crypto::VerifyChain(*leaf, intermediates, /*roots=*/{}, now);
  if (!chain.ok()) {
    // No intermediates is a bundle problem, not a caller's argument.
    return absl::FailedPreconditionError(
        absl::StrCat("chain: ", chain.message()));
  }
  RETURN_IF_ERROR(
      Annotate(crypto::CheckNamesCover(*leaf, spec.require_names), "names"));
  return VerifiedBundle{*std::move(key), *std::move(leaf),
                        std::move(intermediates)};
}

absl::StatusOr<std::vector<RenderedFile>> RenderFiles(
    const TargetSpec& spec, const VerifiedBundle& bundle, Filesystem& fs) {
  ASSIGN_OR_RETURN(const std::string key_pem, bundle.key.ToPem());
  const std::string leaf_pem = bundle.leaf.ToPem();
  std::string chain_pem;
  for (const crypto::Certificate& c : bundle.intermediates) {
    chain_pem += c.ToPem();
  }
  std::vector<RenderedFile> files;
  for (const FileSpec& file : spec.files) {
    RenderedFile out{.path = file.path, .mode = spec.EffectiveMode(file)};
    switch (file.format) {
      case FileSpec::Format::kKey:
        out.content = key_pem;
        break;
      case FileSpec::Format::kCert:
        out.content = leaf_pem;
        break;
      case FileSpec::Format::kChain:
        out.content = chain_pem;
        break;
      case FileSpec::Format::kFullchain:
        out.content = leaf_pem + chain_pem;
        break;
      case FileSpec::Format::kCombined:
        out.content = leaf_pem + chain_pem + key_pem;
        break;
      case FileSpec::Format::kPkcs12: {
        absl::StatusOr<std::string> password =
            ReadPassword(fs, file.password_file);
        if (!password.ok()) return Annotate(password.status(), file.path);
        absl::StatusOr<std::string> p12 = Pkcs12(bundle, *password, spec.name);
        if (!p12.ok()) return Annotate(p12.status(), file.path);
        out.content = *std::move(p12);
        break;
      }
    }
    files.push_back(std::move(out));
  }
  return files;
}

}  // namespace certfleet::agent
