// The digest of what must be the same on every replica of a cluster: the
// sections that decide what is issued, how and when, and how it is rolled
// out (issuers, dns_providers, dns, certificates, removed_certificates,
// rollout, scheduler, retention). Sections that are rightly per replica —
// store endpoints and TLS files, listen addresses, ha.replica, metrics,
// admin identities' files — are left out. The YAML is hashed in a canonical
// form (mapping keys sorted, scalars as written, ${VAR} unexpanded), so
// comments, key order and indentation do not change it; secrets are never
// part of it (they live in files or the environment).
//
//   cfg.cluster_digest = ClusterDigest(root);  // "sha256:1f2e…" (64 hex)
#ifndef CERTFLEET_COORDINATOR_CONFIG_CLUSTER_DIGEST_H_
#define CERTFLEET_COORDINATOR_CONFIG_CLUSTER_DIGEST_H_

#include <string>

#include "yaml-cpp/yaml.h"

namespace certfleet::config {

// "sha256:" + 64 lower-case hex digits, over the cluster-wide sections of
// the document `root` (a mapping; anything else digests as empty).
std::string ClusterDigest(const YAML::Node& root);

}  // namespace certfleet::config

#endif  // CERTFLEET_COORDINATOR_CONFIG_CLUSTER_DIGEST_H_
