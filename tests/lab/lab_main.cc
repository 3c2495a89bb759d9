// certfleet-lab: the local lab for the README's demo — BIND9 serving
// example.test (RFC 2136 updates signed with TSIG), Pebble validating
// DNS-01 through it, and optionally nginx web servers whose certificate
// files an agent manages, on free loopback ports, until SIGINT/SIGTERM.
//
//   certfleet-lab --dir /tmp/certfleet-demo [--zone example.test]...
//                 [--nginx /tmp/certfleet-demo/agent-1/nginx]...
//
// Writes into --dir: pebble-ca.pem (trust bundle for Pebble's HTTPS),
// tsig.secret (mode 0600), and lab.env (written last, so its presence
// means the lab is ready):
//   CERTFLEET_LAB_ACME_PORT, CERTFLEET_LAB_DNS_PORT, CERTFLEET_LAB_ACME_URL,
//   CERTFLEET_LAB_PID, and for the i-th --nginx (from 1):
//   CERTFLEET_LAB_NGINX<i>_PORT (TLS, www.example.test), _CONF, _PREFIX and
//   _LOG (what `nginx -c CONF -p PREFIX -e LOG -s reload` needs).
// Each --nginx directory gets fullchain.pem and privkey.pem — a self-signed
// placeholder, as a host has before its agent's first install — unless they
// exist; nginx serves those two paths.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/certificate_builder.h"
#include "common/crypto/private_key.h"
#include "tests/harness/bind_server.h"
#include "tests/harness/nginx_server.h"
#include "tests/harness/pebble_server.h"

namespace {

bool WriteFile(const std::string& path, const std::string& text, int mode) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return false;
  }
  chmod(tmp.c_str(), mode);
  return rename(tmp.c_str(), path.c_str()) == 0;
}

int Fail(const std::string& what) {
  fprintf(stderr, "certfleet-lab: %s\n", what.c_str());
  return 1;
}

// A self-signed www.example.test certificate and its key in `dir`, unless
// the files are there already: what nginx serves until an agent installs.
absl::Status WritePlaceholder(const std::string& dir) {
  namespace crypto = certfleet::crypto;
  const std::string cert_path = dir + "/fullchain.pem";
  const std::string key_path = dir + "/privkey.pem";
  if (access(cert_path.c_str(), F_OK) == 0 &&
      access(key_path.c_str(), F_OK) == 0) {
    return absl::OkStatus();
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  if (!key.ok()) return key.status();
  const absl::Time now = absl::Now();
  absl::StatusOr<crypto::Certificate> cert = crypto::SelfSignCertificate(
      {.common_name = "certfleet lab placeholder",
       .dns_names = {"www.example.test"},
       .not_before = now - absl::Minutes(5),
       .not_after = now + absl::Hours(24),
       .key_usage = {.digital_signature = true},
       .extended_key_usage = {crypto::ExtendedKeyUsage::kServerAuth}},
      *key);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key_pem = key->ToPem();
  if (!key_pem.ok()) return key_pem.status();
  if (!WriteFile(cert_path, cert->ToPem(), 0644) ||
      !WriteFile(key_path, *key_pem, 0600)) {
    return absl::InternalError(absl::StrCat("cannot write into ", dir));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::vector<std::string> zones;
  std::vector<std::string> nginx_dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--zone" && i + 1 < argc) {
      zones.push_back(argv[++i]);
    } else if (arg == "--nginx" && i + 1 < argc) {
      nginx_dirs.push_back(argv[++i]);
    } else {
      fprintf(stderr,
              "usage: certfleet-lab --dir DIR [--zone ZONE]... "
              "[--nginx FILES_DIR]...\n");
      return 2;
    }
  }
  if (dir.empty()) return Fail("--dir is required");
  if (zones.empty()) zones.push_back("example.test");
  mkdir(dir.c_str(), 0700);
  unlink((dir + "/lab.env").c_str());

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  certfleet::harness::BindOptions bind_options;
  for (const std::string& z : zones) bind_options.zones.push_back({.name = z});
  auto bind = certfleet::harness::BindServer::Start(bind_options);
  if (!bind.ok())
    return Fail(absl::StrCat("BIND9: ", bind.status().ToString()));
  auto pebble = certfleet::harness::PebbleServer::Start(
      {.dns_server = (*bind)->address()});
  if (!pebble.ok()) {
    return Fail(absl::StrCat("Pebble: ", pebble.status().ToString()));
  }
  std::vector<certfleet::harness::NginxOptions> nginx_options;
  for (const std::string& d : nginx_dirs) {
    if (absl::Status s = WritePlaceholder(d); !s.ok()) {
      return Fail(absl::StrCat("nginx placeholder in ", d, ": ", s.ToString()));
    }
    nginx_options.push_back(
        {.cert_path = d + "/fullchain.pem", .key_path = d + "/privkey.pem"});
  }
  std::vector<std::unique_ptr<certfleet::harness::NginxServer>> nginx;
  if (!nginx_options.empty()) {
    auto started =
        certfleet::harness::NginxServer::StartMany(std::move(nginx_options));
    if (!started.ok()) {
      return Fail(absl::StrCat("nginx: ", started.status().ToString()));
    }
    nginx = std::move(*started);
  }
  std::ifstream ca((*pebble)->ca_bundle_path());
  std::string ca_pem((std::istreambuf_iterator<char>(ca)),
                     std::istreambuf_iterator<char>());
  if (!WriteFile(dir + "/pebble-ca.pem", ca_pem, 0644) ||
      !WriteFile(dir + "/tsig.secret", (*bind)->tsig_secret() + "\n", 0600)) {
    return Fail(absl::StrCat("cannot write into ", dir));
  }
  std::string env =
      absl::StrCat("CERTFLEET_LAB_ACME_PORT=", (*pebble)->port(), "\n",
                   "CERTFLEET_LAB_DNS_PORT=", (*bind)->port(), "\n",
                   "CERTFLEET_LAB_ACME_URL=", (*pebble)->directory_url(), "\n",
                   "CERTFLEET_LAB_PID=", getpid(), "\n");
  for (size_t i = 0; i < nginx.size(); ++i) {
    const std::string prefix = absl::StrCat("CERTFLEET_LAB_NGINX", i + 1, "_");
    absl::StrAppend(&env, prefix, "PORT=", nginx[i]->port(), "\n", prefix,
                    "CONF=", nginx[i]->config_path(), "\n", prefix,
                    "PREFIX=", nginx[i]->dir(), "/\n", prefix,
                    "LOG=", nginx[i]->log_path(), "\n");
  }
  if (!WriteFile(dir + "/lab.env", env, 0644)) {
    return Fail(absl::StrCat("cannot write ", dir, "/lab.env"));
  }
  printf("lab ready: Pebble %s, BIND9 %s (zones:",
         (*pebble)->directory_url().c_str(), (*bind)->address().c_str());
  for (const std::string& z : zones) printf(" %s", z.c_str());
  printf(")");
  for (const auto& n : nginx) printf(", nginx %s", n->address().c_str());
  printf("\n");
  fflush(stdout);

  int sig = 0;
  sigwait(&set, &sig);
  unlink((dir + "/lab.env").c_str());
  return 0;  // the servers stop as their owners go out of scope
}
