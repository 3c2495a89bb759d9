// The agent's identity on disk, in its identity directory:
//   identity.pem  the identity key and its certificate from the
//                 coordinator's internal CA, in one file (mode 0600)
//   ca.pem        that CA
//   agent.txt     the agent id
// Key and certificate share one file replaced atomically, so a crash during
// a renewal leaves the old pair or the new one, never a mismatched mix.
#ifndef CERTFLEET_AGENT_CLIENT_IDENTITY_H_
#define CERTFLEET_AGENT_CLIENT_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/filesystem.h"

namespace certfleet::agent {

struct Identity {
  std::string agent_id;
  std::string key_pem;
  std::string cert_pem;
  std::string ca_pem;
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfinitePast();
};

class IdentityStore {
 public:
  IdentityStore(std::string dir, Filesystem& fs)
      : dir_(std::move(dir)), fs_(fs) {}

  // kNotFound (naming the directory) when the agent has not enrolled; the
  // key must match the certificate.
  absl::StatusOr<Identity> Load();
  // Writes a whole identity (enrollment, renewal). The CA and id first, the
  // key+certificate file last: its atomic rename is the commit point.
  absl::Status Save(const Identity& identity);
  const std::string& dir() const { return dir_; }

 private:
  std::string Path(const char* name) const { return dir_ + "/" + name; }
  const std::string dir_;
  Filesystem& fs_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_IDENTITY_H_
