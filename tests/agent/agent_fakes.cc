#include "tests/agent/agent_fakes.h"

#include <cstdlib>

namespace certfleet::agent::testing {

ProcessResult Exit(int code, const std::string& err) {
  ProcessResult r;
  r.exit_code = code;
  r.stderr_data = err;
  return r;
}

void FakeProcessRunner::SetHandler(Handler handler) {
  absl::MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

absl::StatusOr<ProcessResult> FakeProcessRunner::Run(const ProcessSpec& spec,
                                                     const Context&) {
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    calls_.push_back(spec);
    handler = handler_;
  }
  return handler ? handler(spec) : Exit(0);
}

std::vector<std::string> FakeProcessRunner::programs() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const ProcessSpec& s : calls_) out.push_back(s.argv.front());
  return out;
}

int FakeProcessRunner::runs() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(calls_.size());
}

void FakeHealthChecker::SetHandler(Handler handler) {
  absl::MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

void FakeHealthChecker::FailFor(const std::string& serial,
                                const std::string& message) {
  SetHandler(
      [serial, message](const HealthCheckSpec&, const std::string& expected) {
        return expected == serial ? absl::FailedPreconditionError(message)
                                  : absl::OkStatus();
      });
}

absl::Status FakeHealthChecker::Check(const HealthCheckSpec& spec,
                                      const std::string& expected_serial,
                                      const Context&) {
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    serials_.push_back(expected_serial);
    handler = handler_;
  }
  return handler ? handler(spec, expected_serial) : absl::OkStatus();
}

std::vector<std::string> FakeHealthChecker::serials() const {
  absl::MutexLock lock(&mu_);
  return serials_;
}

Bundle MakeBundle(const crypto::testing::TestCa& ca, const std::string& target,
                  const std::string& version_id, const std::string& serial_hex,
                  crypto::testing::LeafOptions options) {
  if (options.dns_names == std::vector<std::string>{"example.test"}) {
    options.dns_names = {"www.example.test"};
  }
  options.serial_hex = serial_hex;
  const crypto::testing::IssuedCert leaf = ca.IssueLeaf(options);
  absl::StatusOr<std::string> key = leaf.key.ToPem();
  if (!key.ok()) abort();
  return Bundle{
      .target = target,
      .version_id = version_id,
      .certificate = "www",
      .leaf_pem = leaf.cert.ToPem(),
      .chain_pem = ca.intermediate().ToPem(),
      .key_pem = *key,
      .not_after = leaf.cert.NotAfter(),
  };
}

TargetSpec WwwTarget(const std::string& directory,
                     const std::string& password_file) {
  using Format = FileSpec::Format;
  TargetSpec t;
  t.name = "www";
  t.directory = directory;
  t.require_names = {"www.example.test"};
  t.files = {
      {.path = "key.pem", .format = Format::kKey},
      {.path = "cert.pem", .format = Format::kCert},
      {.path = "chain.pem", .format = Format::kChain},
      {.path = "fullchain.pem", .format = Format::kFullchain},
      {.path = "haproxy/www.pem", .format = Format::kCombined},
      {.path = "www.p12",
       .format = Format::kPkcs12,
       .password_file = password_file},
  };
  t.reload_command = {"/usr/sbin/reload-www"};
  t.grace = absl::Seconds(1);
  t.health = {HealthCheckSpec{.kind = HealthCheckSpec::Kind::kTls,
                              .address = "127.0.0.1:8443",
                              .server_name = "www.example.test"}};
  t.health_timeout = absl::Seconds(5);
  return t;
}

}  // namespace certfleet::agent::testing
