#include "tests/agent/install_fixture.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/crypto/verify.h"
#include "common/filesystem.h"

namespace certfleet::agent {

void PrintTo(const Journal& journal, std::ostream* os) {
  *os << EncodeJournal(journal);
}

void PrintTo(const LocalFailure& f, std::ostream* os) {
  *os << "{" << f.version_id << ", " << f.failed_step << ", \"" << f.error
      << "\", rolled_back=" << f.rolled_back << "}";
}

}  // namespace certfleet::agent

namespace certfleet::agent::testing {

InstallFixture::InstallFixture() {
  password_file_ = tmp_.File("p12.pass");
  ::certfleet::testing::WriteFileOrDie(password_file_, "s3cret pass\n", 0600);
  config_.targets.push_back(WwwTarget(tmp_.File("www"), password_file_));
}

const crypto::testing::TestCa& InstallFixture::Ca() {
  static const auto* ca =
      new crypto::testing::TestCa(crypto::testing::TestCa::Create());
  return *ca;
}

const crypto::testing::TestCa& InstallFixture::OtherCa() {
  static const auto* ca = new crypto::testing::TestCa(
      crypto::testing::TestCa::Create("Other Test"));
  return *ca;
}

Bundle InstallFixture::WwwBundle(int n, const std::string& serial,
                                 crypto::testing::LeafOptions options) const {
  return MakeBundle(Ca(), "www", "www/" + std::to_string(n), serial,
                    std::move(options));
}

std::unique_ptr<TargetManager> InstallFixture::NewManager() {
  absl::StatusOr<std::unique_ptr<TargetManager>> m =
      TargetManager::Create(config_, runner_, clock_, checker_, &registry_);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return nullptr;
  return *std::move(m);
}

std::string InstallFixture::LinkTarget(const std::string& rel) const {
  char buf[4096];
  const ssize_t n = readlink(Path(rel).c_str(), buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

std::string InstallFixture::Current() const {
  const std::string target = LinkTarget("current");
  return absl::StartsWith(target, ".versions/") ? target.substr(10) : target;
}

Journal InstallFixture::ReadJournalOrDie() {
  absl::StatusOr<Journal> j = DecodeJournal(
      ::certfleet::testing::ReadFileOrDie(Path(kJournalFileName)));
  EXPECT_TRUE(j.ok()) << j.status();
  return j.value_or(Journal{});
}

std::vector<std::string> InstallFixture::Versions() const {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(Path(".versions"), ec)) {
    names.insert(e.path().filename().string());
  }
  return {names.begin(), names.end()};
}

std::set<std::string> InstallFixture::Tree() const {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(Dir(), ec)) {
    out.insert(e.path().string().substr(Dir().size()));
  }
  return out;
}

std::string InstallFixture::ServedSerialWithMatchingKey() const {
  LocalFilesystem fs;
  absl::StatusOr<std::string> key_pem = fs.ReadFile(Path("key.pem"));
  absl::StatusOr<std::string> cert_pem = fs.ReadFile(Path("cert.pem"));
  if (!key_pem.ok() || !cert_pem.ok()) return "";
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::FromPem(*key_pem);
  absl::StatusOr<crypto::Certificate> cert =
      crypto::Certificate::FromPem(*cert_pem);
  if (!key.ok() || !cert.ok()) return "";
  if (!crypto::CheckKeyMatches(*key, *cert).ok()) return "mismatch";
  return cert->SerialHex();
}

double InstallFixture::Metric(const std::string& series) const {
  std::istringstream in(registry_.Render());
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, series + " ")) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
    }
  }
  return -1;
}

}  // namespace certfleet::agent::testing
