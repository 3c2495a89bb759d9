#include "common/yaml/diagnostics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace certfleet::yaml {

void Diagnostics::Add(const YAML::Mark& mark, absl::string_view path,
                      absl::string_view message) {
  std::string text = Where(mark);
  if (!path.empty()) absl::StrAppend(&text, ": ", path);
  absl::StrAppend(&text, ": ", message);
  problems_.push_back(Problem{mark.line, mark.column, std::move(text)});
}

std::string Diagnostics::Where(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0) return source_name_;
  return absl::StrCat(source_name_, ":", mark.line + 1, ":", mark.column + 1);
}

absl::Status Diagnostics::ToStatus() const {
  if (problems_.empty()) return absl::OkStatus();
  std::vector<const Problem*> sorted;
  sorted.reserve(problems_.size());
  for (const Problem& p : problems_) sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Problem* a, const Problem* b) {
                     if (a->line != b->line) return a->line < b->line;
                     return a->column < b->column;
                   });
  std::vector<absl::string_view> lines;
  lines.reserve(sorted.size());
  for (const Problem* p : sorted) lines.push_back(p->text);
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace certfleet::yaml
