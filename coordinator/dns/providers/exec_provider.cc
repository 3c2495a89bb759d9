#include "coordinator/dns/providers/exec_provider.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "coordinator/dns/dns_name.h"

namespace certfleet::dns {

ExecProvider::ExecProvider(std::string name, ExecOptions options,
                           ProcessRunner& runner)
    : name_(std::move(name)), options_(std::move(options)), runner_(runner) {}

absl::Status ExecProvider::Present(const std::string& zone,
                                   const std::vector<TxtRecord>& records,
                                   const Context& ctx) {
  for (const TxtRecord& r : records) {
    RETURN_IF_ERROR(RunOne("present", zone, r, ctx));
  }
  return absl::OkStatus();
}

absl::Status ExecProvider::CleanUp(const std::string& zone,
                                   const std::vector<TxtRecord>& records,
                                   const Context& ctx) {
  absl::Status first;
  std::vector<std::string> failures;
  for (const TxtRecord& r : records) {
    absl::Status s = RunOne("cleanup", zone, r, ctx);
    if (s.ok()) continue;
    if (first.ok()) first = s;
    failures.emplace_back(s.message());
  }
  if (failures.size() <= 1) return first;
  return WithMessage(first, absl::StrJoin(failures, "; "));
}

absl::Status ExecProvider::RunOne(const char* action, const std::string& zone,
                                  const TxtRecord& record, const Context& ctx) {
  if (options_.argv.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("exec provider \"", name_, "\": no command configured"));
  }
  const std::string fqdn = CanonicalName(record.fqdn);
  ProcessSpec spec;
  spec.argv = options_.argv;
  spec.argv.insert(spec.argv.end(), {action, fqdn, record.value});
  spec.env = options_.env;
  spec.env.insert(spec.env.end(), {{"CERTFLEET_ACTION", action},
                                   {"CERTFLEET_FQDN", fqdn},
                                   {"CERTFLEET_VALUE", record.value},
                                   {"CERTFLEET_ZONE", CanonicalName(zone)}});
  spec.timeout = options_.timeout;
  const std::string what = absl::StrCat("exec provider \"", name_, "\": \"",
                                        absl::StrJoin(spec.argv, " "), "\"");
  absl::StatusOr<ProcessResult> result = runner_.Run(spec, ctx);
  if (!result.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " could not start: ", result.status().message()));
  }
  if (result->success()) return absl::OkStatus();
  std::string message = absl::StrCat(what, " ", result->Describe());
  const std::string excerpt = result->StderrExcerpt();
  if (!excerpt.empty()) absl::StrAppend(&message, "; stderr: ", excerpt);
  if (result->cancelled) return absl::CancelledError(message);
  if (result->timed_out) return absl::UnavailableError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace certfleet::dns
