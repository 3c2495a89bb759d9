// Typed, position-aware reading of a parsed YAML document. Every value is read
// through a Field (node + dotted path + position); every problem goes to
// Diagnostics with that position and path, and reading carries on, so one
// pass reports everything wrong with a file.
//
// Scalars have ${VAR} expanded before they are converted, so
// `nameserver_port: ${DNS_PORT}` reads as an integer. A null value
// (`trust_bundle:` with nothing after it) counts as absent.
//
//   Reader r(diags, getenv);
//   Mapping root = r.Map(r.Root(doc), {"store", "dns"});
//   Mapping dns = r.Map(root.Get("dns"), {"resolvers", "follow_cname"});
//   bool follow = true;
//   r.Bool(dns.Get("follow_cname"), &follow);
#ifndef CERTFLEET_COMMON_YAML_YAML_READER_H_
#define CERTFLEET_COMMON_YAML_YAML_READER_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/yaml/diagnostics.h"
#include "yaml-cpp/yaml.h"

namespace certfleet::yaml {

// A value found (or not) at a field path.
struct Field {
  YAML::Node node;   // undefined when the field is absent
  std::string path;  // "issuers[0].limits.requests_per_second"; "" = root
  // The value's position; the key's for a null value; the enclosing
  // mapping's when the field is absent (where it would have to be added).
  YAML::Mark mark;

  bool present() const { return node.IsDefined() && !node.IsNull(); }
};

class Reader;

// The fields of one mapping, after Reader::Map checked its keys.
class Mapping {
 public:
  // The field `key`; absent (not present()) when the mapping lacks it.
  Field Get(absl::string_view key) const;
  const Field& self() const { return self_; }
  bool Has(absl::string_view key) const { return Get(key).present(); }

 private:
  friend class Reader;
  Field self_;
  // First occurrence of each key: key → (key node, value node).
  std::map<std::string, std::pair<YAML::Node, YAML::Node>, std::less<>>
      entries_;
};

class Reader {
 public:
  using Getenv = std::function<std::optional<std::string>(const std::string&)>;

  Reader(Diagnostics& diags, Getenv getenv)
      : diags_(diags), getenv_(std::move(getenv)) {}

  Diagnostics& diags() { return diags_; }

  // The document's root as a field with path "".
  Field Root(const YAML::Node& node);

  // Reports `message` at `field`.
  void Error(const Field& field, absl::string_view message);

  // Checks that `field` is a mapping (absent = empty) whose keys are all in
  // `known`; reports unknown keys (suggesting a close known one) and
  // repeated keys.
  Mapping Map(const Field& field, absl::Span<const char* const> known);

  // The elements of a list, with paths "path[i]"; absent = none.
  std::vector<Field> List(const Field& field);

  // Reports "required field is missing" and returns false when absent.
  bool Required(const Field& field);

  // The expanded text of a scalar. nullopt when absent (no report), or not
  // a scalar / expansion failed (reported, naming `expected`).
  std::optional<std::string> Scalar(const Field& field,
                                    absl::string_view expected = "a string");

  // Typed reads. Each returns true and sets *out when the field is present
  // and valid; leaves *out (the default) alone and returns false when it is
  // absent; reports and returns false when it is invalid.
  bool String(const Field& field, std::string* out);
  bool Int(const Field& field, int min, int max, int* out);
  bool PositiveDouble(const Field& field, double* out);
  bool Bool(const Field& field, bool* out);
  bool PositiveDuration(const Field& field, absl::Duration* out);
  // A duration that may be zero ("0s", "250ms"): a grace period, a bake time.
  bool NonNegativeDuration(const Field& field, absl::Duration* out);

  // Each element of a list of strings, with its field (for per-element
  // checks and messages). Non-scalar elements are reported and skipped.
  std::vector<std::pair<Field, std::string>> Strings(const Field& field);

 private:
  // PositiveDuration (`zero_allowed` false) and NonNegativeDuration.
  bool BoundedDuration(const Field& field, bool zero_allowed,
                       absl::Duration* out);

  Diagnostics& diags_;
  Getenv getenv_;
};

// "a mapping", "a list", "a string", "nothing" — for "expected X, got Y".
const char* DescribeNodeType(const YAML::Node& node);

// Levenshtein distance, for "did you mean" suggestions.
int EditDistance(absl::string_view a, absl::string_view b);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_YAML_READER_H_
