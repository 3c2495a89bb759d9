// Agent labels ("pool=edge-eu", "env=prod"): what a valid label is, the
// "k=v,k=v" form operators type (`token create --labels`), and selector
// matching. Bootstrap tokens grant labels; certificates' targets select
// agents by them.
//
//   ASSIGN_OR_RETURN(auto labels, ParseLabelList("role=web,env=prod"));
//   FormatLabels(labels);                        // "env=prod,role=web"
//   LabelsMatch({{"role", "web"}}, labels);      // true
#ifndef CERTFLEET_COMMON_LABELS_H_
#define CERTFLEET_COMMON_LABELS_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::labels {

using Labels = std::map<std::string, std::string>;

// Keys: 1–63 letters, digits, ".", "_", "-" and "/", starting with a letter
// or digit ("role", "example.com/tier"). Values: 1–63 letters, digits, ".",
// "_" and "-". kInvalidArgument naming the label and the rule otherwise.
absl::Status CheckLabel(absl::string_view key, absl::string_view value);

// "k=v[,k=v...]" (spaces around items are ignored). kInvalidArgument naming
// the first problem: an item without "=", an invalid label, a key given
// twice. "" is an empty set.
absl::StatusOr<Labels> ParseLabelList(absl::string_view text);

// "k=v,k=v" in key order; "" for no labels.
std::string FormatLabels(const Labels& labels);

// True when every label of `selector` is in `labels` with the same value
// (an empty selector matches everything).
bool LabelsMatch(const Labels& selector, const Labels& labels);

}  // namespace certfleet::labels

#endif  // CERTFLEET_COMMON_LABELS_H_
