#include "coordinator/ha/config_agreement.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/short_digest.h"

namespace certfleet::ha {
namespace {

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<std::string> Minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

}  // namespace

ConfigAgreement::ConfigAgreement(std::string replica, std::string digest,
                                 std::vector<std::string> certificates)
    : replica_(std::move(replica)),
      digest_(std::move(digest)),
      certificates_(Sorted(std::move(certificates))) {}

ConfigAgreement::Change ConfigAgreement::Observe(
    const std::vector<store::ReplicaRecord>& replicas) {
  std::vector<ConfigDifference> now;
  for (const store::ReplicaRecord& r : replicas) {
    if (r.replica == replica_ || r.config_digest == digest_) continue;
    const std::vector<std::string> theirs = Sorted(r.certificates);
    now.push_back({.replica = r.replica,
                   .digest = r.config_digest,
                   .only_there = Minus(theirs, certificates_),
                   .only_here = Minus(certificates_, theirs)});
  }
  Change change;
  change.agreed = now.empty();
  {
    absl::MutexLock lock(&mu_);
    replicas_ = replicas;
    change.changed = now != differences_;
    differences_ = now;
  }
  if (!change.changed) return change;
  if (change.agreed) {
    change.message = absl::StrCat(
        "configuration: every replica runs the same configuration again (",
        ShortDigest(digest_), ")");
    return change;
  }
  std::vector<std::string> parts;
  for (const ConfigDifference& d : now) {
    std::string part = absl::StrCat(d.replica, " runs ", ShortDigest(d.digest));
    if (!d.only_there.empty()) {
      absl::StrAppend(&part, ", certificates only there: ",
                      absl::StrJoin(d.only_there, ", "));
    }
    if (!d.only_here.empty()) {
      absl::StrAppend(&part, ", certificates only here: ",
                      absl::StrJoin(d.only_here, ", "));
    }
    parts.push_back(std::move(part));
  }
  change.message = absl::StrCat(
      "configuration differs between replicas: this replica (", replica_,
      ") runs ", ShortDigest(digest_), "; ", absl::StrJoin(parts, "; "),
      ". Make coordinator.yaml the same on every replica (docs/ha.md): a "
      "leader renews and rolls out only what its own file configures");
  return change;
}

std::vector<ConfigDifference> ConfigAgreement::differences() const {
  absl::MutexLock lock(&mu_);
  return differences_;
}

std::vector<store::ReplicaRecord> ConfigAgreement::replicas() const {
  absl::MutexLock lock(&mu_);
  return replicas_;
}

}  // namespace certfleet::ha
