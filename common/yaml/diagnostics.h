// Collects every problem found in a configuration file, each tied to a
// position, and turns them into one kInvalidArgument status whose message has
// one line per problem: "FILE:LINE:COLUMN: FIELD_PATH: what is wrong".
//
//   Diagnostics diags("coordinator.yaml");
//   diags.Add(node.Mark(), "certificates[2].key_type", "\"ec521\" is not ...");
//   if (!diags.empty()) return diags.ToStatus();
#ifndef CERTFLEET_COMMON_YAML_DIAGNOSTICS_H_
#define CERTFLEET_COMMON_YAML_DIAGNOSTICS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/mark.h"

namespace certfleet::yaml {

class Diagnostics {
 public:
  explicit Diagnostics(std::string source_name)
      : source_name_(std::move(source_name)) {}

  // Records a problem at `mark` (yaml-cpp's 0-based line and column). An
  // empty `path` leaves the FIELD_PATH part out (syntax errors, top level).
  void Add(const YAML::Mark& mark, absl::string_view path,
           absl::string_view message);

  // "FILE:LINE:COLUMN" with 1-based numbers; "FILE" for a null mark.
  std::string Where(const YAML::Mark& mark) const;

  bool empty() const { return problems_.empty(); }
  size_t size() const { return problems_.size(); }

  // kInvalidArgument with every problem, ordered by position (problems at
  // the same position keep the order they were found in); OK when empty.
  absl::Status ToStatus() const;

 private:
  struct Problem {
    int line;
    int column;
    std::string text;
  };

  std::string source_name_;
  std::vector<Problem> problems_;
};

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_DIAGNOSTICS_H_
