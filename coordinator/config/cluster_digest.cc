#include "coordinator/config/cluster_digest.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"

namespace certfleet::config {
namespace {

constexpr const char* kClusterSections[] = {"issuers",
                                            "dns_providers",
                                            "dns",
                                            "certificates",
                                            "removed_certificates",
                                            "rollout",
                                            "scheduler",
                                            "retention"};

// Length-prefixed, so no two different documents share a form.
void Canonical(const YAML::Node& node, std::string* out) {
  // A missing key's node is a "zombie": anything but IsDefined throws.
  if (!node.IsDefined()) {
    absl::StrAppend(out, "n");
    return;
  }
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      absl::StrAppend(out, "s", node.Scalar().size(), ":", node.Scalar());
      return;
    case YAML::NodeType::Sequence:
      absl::StrAppend(out, "l", node.size(), "[");
      for (const YAML::Node& item : node) Canonical(item, out);
      absl::StrAppend(out, "]");
      return;
    case YAML::NodeType::Map: {
      std::map<std::string, YAML::Node> sorted;
      for (const auto& kv : node) {
        std::string key;
        Canonical(kv.first, &key);
        sorted.emplace(std::move(key), kv.second);
      }
      absl::StrAppend(out, "m", sorted.size(), "{");
      for (const auto& [key, value] : sorted) {
        absl::StrAppend(out, key);
        Canonical(value, out);
      }
      absl::StrAppend(out, "}");
      return;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      absl::StrAppend(out, "n");
      return;
  }
}

}  // namespace

std::string ClusterDigest(const YAML::Node& root) {
  std::string form;
  if (root.IsMap()) {
    for (const char* section : kClusterSections) {
      const YAML::Node node = root[section];
      absl::StrAppend(&form, section, "=");
      Canonical(node, &form);
      absl::StrAppend(&form, ";");
    }
  }
  return absl::StrCat("sha256:", crypto::HexEncode(crypto::Sha256(form)));
}

}  // namespace certfleet::config
