#include "tests/agent_web/agent_web_support.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "agent/install/target_directory.h"
#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"
#include "common/crypto/verify.h"
#include "common/filesystem.h"
#include "common/status_macros.h"
#include "tests/harness/tls_probe.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agent::web_testing {

using ::certfleet::testing::WriteFileOrDie;

absl::Status RealAgent::Start(const AgentConfig& config) {
  absl::StatusOr<std::unique_ptr<TargetManager>> created =
      TargetManager::Create(config, runner, clock, checker, &registry);
  if (!created.ok()) return created.status();
  manager = *std::move(created);
  return manager->Recover(Deadline());
}

double RealAgent::Metric(const std::string& series) const {
  return MetricValue(registry, series);
}

TargetStatus RealAgent::Status(const std::string& target) const {
  if (manager == nullptr) return {};
  for (const TargetStatus& status : manager->Inventory()) {
    if (status.name == target) return status;
  }
  return {};
}

const crypto::testing::TestCa& Ca() {
  static const auto* ca =
      new crypto::testing::TestCa(crypto::testing::TestCa::Create("Agent Web"));
  return *ca;
}

Bundle WwwBundle(const std::string& target, const std::string& version_id,
                 const std::string& serial_hex) {
  const absl::Time now = absl::Now();
  const crypto::testing::IssuedCert leaf =
      Ca().IssueLeaf({.dns_names = {kServerName},
                      .not_before = now - absl::Hours(1),
                      .not_after = now + absl::Hours(24 * 30),
                      .serial_hex = serial_hex});
  absl::StatusOr<std::string> key_pem = leaf.key.ToPem();
  if (!key_pem.ok()) abort();
  return Bundle{.target = target,
                .version_id = version_id,
                .certificate = "www",
                .leaf_pem = leaf.cert.ToPem(),
                .chain_pem = Ca().intermediate().ToPem(),
                .key_pem = *key_pem,
                .not_after = leaf.cert.NotAfter()};
}

void WritePlaceholders(const Bundle& bundle, const std::string& fullchain_path,
                       const std::string& key_path) {
  WriteFileOrDie(fullchain_path, bundle.leaf_pem + bundle.chain_pem);
  WriteFileOrDie(key_path, bundle.key_pem, 0600);
}

void WriteCombinedPlaceholder(const Bundle& bundle, const std::string& path) {
  WriteFileOrDie(path, bundle.leaf_pem + bundle.chain_pem + bundle.key_pem,
                 0600);
}

Bundle NextBundle(const std::string& target, const std::string& serial_prefix) {
  static std::atomic<int> next{1};
  const int n = next.fetch_add(1);
  return WwwBundle(target, absl::StrCat(target, "/", n),
                   absl::StrFormat("%s%04x", serial_prefix, n));
}

std::string Serial(const Bundle& bundle) {
  absl::StatusOr<crypto::Certificate> leaf =
      crypto::Certificate::FromPem(bundle.leaf_pem);
  return leaf.ok() ? leaf->SerialHex() : "";
}

std::string YamlString(const std::string& text) {
  return absl::StrCat(
      "\"", absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
}

std::string YamlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ", ";
    out += YamlString(item);
  }
  return out + "]";
}

std::string AgentYaml(const std::string& dir, const std::string& targets_yaml) {
  WriteFileOrDie(dir + "/coordinator-ca.pem", Ca().RootPem());
  return absl::StrCat(
      "coordinators: [\"127.0.0.1:1\"]\n"
      "coordinator_ca: coordinator-ca.pem\n"
      "identity_dir: identity\n",
      targets_yaml);
}

absl::StatusOr<AgentConfig> ParseConfig(const std::string& yaml,
                                        const std::string& dir) {
  LocalFilesystem fs;
  return ParseAgentConfig(yaml, dir + "/agent.yaml", fs,
                          [](const std::string&) -> std::optional<std::string> {
                            return std::nullopt;
                          });
}

std::string Describe(const InstallOutcome& outcome) {
  if (outcome.ok) return "ok";
  return absl::StrCat(
      "failed at ",
      DeliveryStepName(outcome.failed_step.value_or(DeliveryStep::kUnknown)),
      outcome.rolled_back ? " (rolled back): " : ": ", outcome.error);
}

Context Deadline(absl::Duration timeout) {
  return Context::Background().WithDeadline(absl::Now() + timeout);
}

absl::Status WaitUntilServed(const std::string& address,
                             const std::string& serial,
                             absl::Duration timeout) {
  RETURN_IF_ERROR(::certfleet::testing::WaitForOk(
      absl::StrCat(address, " to serve serial ", serial),
      [&]() -> absl::Status {
        absl::StatusOr<harness::ServedCertificate> served =
            harness::ProbeTls(address, kServerName, absl::Seconds(2));
        if (!served.ok()) return served.status();
        if (served->serial_hex != serial) {
          return absl::FailedPreconditionError(
              absl::StrCat("serial ", served->serial_hex));
        }
        return absl::OkStatus();
      },
      timeout));
  // Then it stays so (no worker left with the old one).
  for (int i = 0; i < 5; ++i) {
    absl::SleepFor(absl::Milliseconds(30));
    absl::StatusOr<harness::ServedCertificate> served =
        harness::ProbeTls(address, kServerName, absl::Seconds(2));
    if (!served.ok()) return served.status();
    if (served->serial_hex != serial) {
      return absl::FailedPreconditionError(
          absl::StrCat(address, " served serial ", serial, ", then ",
                       served->serial_hex, " again"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MatchingSerial(const std::string& key_path,
                                           const std::string& cert_path) {
  LocalFilesystem fs;
  absl::StatusOr<std::string> key_pem = fs.ReadFile(key_path);
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<std::string> cert_pem = fs.ReadFile(cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::FromPem(*key_pem);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::vector<crypto::Certificate>> certs =
      crypto::Certificate::ParsePemChain(*cert_pem);
  if (!certs.ok()) return certs.status();
  if (certs->empty()) {
    return absl::FailedPreconditionError(cert_path + ": no certificate");
  }
  if (absl::Status s = crypto::CheckKeyMatches(*key, certs->front()); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        key_path, " does not match ", cert_path, ": ", s.message()));
  }
  return certs->front().SerialHex();
}

double MetricValue(const metrics::Registry& registry,
                   const std::string& series) {
  std::istringstream in(registry.Render());
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, series + " ")) {
      double value = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) {
        return value;
      }
    }
  }
  return -1;
}

std::string ReadLink(const std::string& path) {
  char buf[4096];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

std::string CurrentLinkFor(const std::string& version_id) {
  return ".versions/" + TargetDirectory::VersionDirName(version_id);
}

std::vector<std::string> VersionDirs(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir + "/.versions", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.front() != '.') names.insert(name);
  }
  return {names.begin(), names.end()};
}

}  // namespace certfleet::agent::web_testing
