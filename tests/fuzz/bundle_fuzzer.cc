// Feeds: a delivered bundle — leaf PEM, chain PEM and key PEM, split at
// fuzz::kFieldSeparator — to VerifyBundle, the agent's gate before anything
// touches the disk (agent/install/bundle_files.h), for a target that
// requires www.example.test and *.example.test, at a fixed time; a bundle it
// accepts goes on to RenderFiles for every PEM format.
// Checks, beyond no crash, leak or sanitizer report:
//  - a refused bundle is kInvalidArgument (a part does not parse) or
//    kFailedPrecondition (a check failed), never anything else, and leaves
//    no OpenSSL error on the thread's queue;
//  - an accepted bundle's key matches its leaf, the leaf is valid now and
//    covers the required names;
//  - the rendered fullchain parses back to the leaf and the intermediates,
//    and the rendered key to the same key.
#include <cstdint>
#include <string>
#include <vector>

#include "agent/install/bundle_files.h"
#include "common/crypto/verify.h"
#include "tests/config/memory_filesystem.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/openssl_errors.h"

namespace certfleet::agent {
namespace {

TargetSpec Spec() {
  TargetSpec spec;
  spec.name = "www";
  spec.directory = "/srv/tls/www";
  spec.require_names = {"www.example.test", "*.example.test"};
  spec.files = {
      {.path = "privkey.pem", .format = FileSpec::Format::kKey},
      {.path = "cert.pem", .format = FileSpec::Format::kCert},
      {.path = "chain.pem", .format = FileSpec::Format::kChain},
      {.path = "fullchain.pem", .format = FileSpec::Format::kFullchain},
      {.path = "combined.pem", .format = FileSpec::Format::kCombined},
  };
  return spec;
}

void CheckAccepted(const TargetSpec& spec, const VerifiedBundle& v) {
  FUZZ_CHECK(crypto::CheckKeyMatches(v.key, v.leaf).ok(),
             "an accepted bundle's key matches its leaf");
  FUZZ_CHECK(crypto::CheckValidAt(v.leaf, fuzz::Now()).ok(),
             "an accepted bundle's leaf is valid now");
  FUZZ_CHECK(crypto::CheckNamesCover(v.leaf, spec.require_names).ok(),
             "an accepted bundle covers the required names");

  config::testing::MemoryFilesystem fs;
  absl::StatusOr<std::vector<RenderedFile>> files = RenderFiles(spec, v, fs);
  FUZZ_CHECK(files.ok() && files->size() == spec.files.size(),
             "an accepted bundle renders every PEM file");
  absl::StatusOr<std::vector<crypto::Certificate>> fullchain =
      crypto::Certificate::ParsePemChain((*files)[3].content);
  FUZZ_CHECK(fullchain.ok() &&
                 fullchain->size() == 1 + v.intermediates.size() &&
                 fullchain->front().ToDer() == v.leaf.ToDer(),
             "the rendered fullchain parses back to leaf + intermediates");
  for (size_t i = 0; i < v.intermediates.size(); ++i) {
    FUZZ_CHECK((*fullchain)[i + 1].ToDer() == v.intermediates[i].ToDer(),
               "the rendered fullchain keeps the intermediates in order");
  }
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::FromPem((*files)[0].content);
  FUZZ_CHECK(key.ok() && crypto::CheckKeyMatches(*key, v.leaf).ok(),
             "the rendered key parses back and matches the leaf");
}

}  // namespace
}  // namespace certfleet::agent

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  certfleet::fuzz::ReleaseOpenSslErrors release;
  using namespace certfleet::agent;
  namespace fuzz = certfleet::fuzz;
  static const TargetSpec* spec = new TargetSpec(Spec());
  const std::vector<absl::string_view> fields =
      fuzz::Split(fuzz::AsView(data, size), 3);
  Bundle bundle{.target = "www",
                .version_id = "www/1",
                .certificate = "www",
                .leaf_pem = std::string(fields[0]),
                .chain_pem = std::string(fields[1]),
                .key_pem = std::string(fields[2])};
  absl::StatusOr<VerifiedBundle> v = VerifyBundle(bundle, *spec, fuzz::Now());
  FUZZ_CHECK(ERR_peek_error() == 0, "no OpenSSL error is left on the queue");
  if (!v.ok()) {
    FUZZ_CHECK(v.status().code() == absl::StatusCode::kInvalidArgument ||
                   v.status().code() == absl::StatusCode::kFailedPrecondition,
               "a refused bundle is kInvalidArgument or kFailedPrecondition");
    return 0;
  }
  CheckAccepted(*spec, *v);
  return 0;
}
