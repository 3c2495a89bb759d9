// Feeds: arbitrary text as a bootstrap token ("cft1.<id>.<secret>",
// coordinator/identity/tokens.h) to BootstrapTokens::Parse and to Check against
// an in-memory store holding a valid, an expired and a used token (see
// fuzz_util.h) — what the coordinator does with the token of every
// enrollment request, before anything is authenticated.
// Checks, beyond no crash and no sanitizer report:
//  - a malformed token is kInvalidArgument; any other refusal is
//    kPermissionDenied; Check accepts only the valid token's id and secret;
//  - parse → format → parse gives the same id and secret;
//  - format → parse: the input's first 40 bytes as an id (8 bytes, hex) and
//    a secret (32 bytes, base64url) make a token that parses back to them.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/crypto/encoding.h"
#include "common/log.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/store/memory_store.h"
#include "tests/fuzz/fuzz_util.h"

namespace certfleet::identity {
namespace {

class FixedClock : public Clock {
 public:
  absl::Time Now() override { return fuzz::Now(); }
  absl::Status SleepUntil(absl::Time, const Context&) override {
    return absl::OkStatus();
  }
};

struct World {
  store::InMemoryStore store;
  FixedClock clock;
  BootstrapTokens tokens{store, clock};
};

World& TheWorld() {
  static World* world = [] {
    auto* w = new World;
    for (int i = 0; i < 3; ++i) {
      store::TokenRecord r{.id = fuzz::TokenId(i),
                           .secret_hash = crypto::Sha256(fuzz::TokenSecret(i)),
                           .labels = {{"role", "web"}},
                           .created_at = fuzz::Now() - absl::Hours(2),
                           .expires_at = fuzz::Now() + absl::Hours(1)};
      if (i == 1) r.expires_at = fuzz::Now() - absl::Hours(1);
      if (i == 2) {
        r.used_at = fuzz::Now() - absl::Minutes(5);
        r.used_by = "agt-000000000001";
      }
      FUZZ_CHECK(w->store.PutToken(r).ok(), "the store takes a token");
    }
    return w;
  }();
  return *world;
}

std::string Format(const BootstrapTokens::Parsed& p) {
  return absl::StrCat("cft1.", p.id, ".", crypto::Base64UrlEncode(p.secret));
}

}  // namespace
}  // namespace certfleet::identity

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  certfleet::SetLogLevel(certfleet::LogLevel::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::identity;
  namespace fuzz = certfleet::fuzz;
  namespace crypto = certfleet::crypto;
  World& world = TheWorld();
  const absl::string_view input = fuzz::AsView(data, size);

  absl::StatusOr<BootstrapTokens::Parsed> parsed =
      BootstrapTokens::Parse(input);
  if (parsed.ok()) {
    absl::StatusOr<BootstrapTokens::Parsed> again =
        BootstrapTokens::Parse(Format(*parsed));
    FUZZ_CHECK(again.ok() && again->id == parsed->id &&
                   again->secret == parsed->secret,
               "parse -> format -> parse keeps id and secret");
  } else {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               "a malformed token is kInvalidArgument");
  }

  absl::StatusOr<certfleet::store::TokenRecord> record =
      world.tokens.Check(input);
  const bool is_real = parsed.ok() && parsed->id == fuzz::TokenId(0) &&
                       parsed->secret == fuzz::TokenSecret(0);
  FUZZ_CHECK(record.ok() == is_real, "only the valid token is accepted");
  if (!record.ok() && parsed.ok()) {
    FUZZ_CHECK(record.status().code() == absl::StatusCode::kPermissionDenied,
               "a well-formed but wrong token is kPermissionDenied");
  }

  if (input.size() >= 40) {
    const BootstrapTokens::Parsed made{
        .id = crypto::HexEncode(input.substr(0, 8)),
        .secret = std::string(input.substr(8, 32))};
    absl::StatusOr<BootstrapTokens::Parsed> back =
        BootstrapTokens::Parse(Format(made));
    FUZZ_CHECK(back.ok() && back->id == made.id && back->secret == made.secret,
               "format -> parse keeps id and secret");
  }
  return 0;
}
