// certfleet-lab: the local lab for the README's demo — BIND9 serving
// example.test (RFC 2136 updates signed with TSIG) and Pebble validating
// DNS-01 through it, on free loopback ports, until SIGINT/SIGTERM.
//
//   certfleet-lab --dir /tmp/certfleet-demo [--zone example.test]...
//
// Writes into --dir: pebble-ca.pem (trust bundle for Pebble's HTTPS),
// tsig.secret (mode 0600), and lab.env (written last, so its presence
// means the lab is ready):
//   CERTFLEET_LAB_ACME_PORT, CERTFLEET_LAB_DNS_PORT, CERTFLEET_LAB_ACME_URL,
//   CERTFLEET_LAB_PID
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/harness/bind_server.h"
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

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::vector<std::string> zones;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--zone" && i + 1 < argc) {
      zones.push_back(argv[++i]);
    } else {
      fprintf(stderr, "usage: certfleet-lab --dir DIR [--zone ZONE]...\n");
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
  std::ifstream ca((*pebble)->ca_bundle_path());
  std::string ca_pem((std::istreambuf_iterator<char>(ca)),
                     std::istreambuf_iterator<char>());
  if (!WriteFile(dir + "/pebble-ca.pem", ca_pem, 0644) ||
      !WriteFile(dir + "/tsig.secret", (*bind)->tsig_secret() + "\n", 0600)) {
    return Fail(absl::StrCat("cannot write into ", dir));
  }
  const std::string env =
      absl::StrCat("CERTFLEET_LAB_ACME_PORT=", (*pebble)->port(), "\n",
                   "CERTFLEET_LAB_DNS_PORT=", (*bind)->port(), "\n",
                   "CERTFLEET_LAB_ACME_URL=", (*pebble)->directory_url(), "\n",
                   "CERTFLEET_LAB_PID=", getpid(), "\n");
  if (!WriteFile(dir + "/lab.env", env, 0644)) {
    return Fail(absl::StrCat("cannot write ", dir, "/lab.env"));
  }
  printf("lab ready: Pebble %s, BIND9 %s (zones:",
         (*pebble)->directory_url().c_str(), (*bind)->address().c_str());
  for (const std::string& z : zones) printf(" %s", z.c_str());
  printf(")\n");
  fflush(stdout);

  int sig = 0;
  sigwait(&set, &sig);
  unlink((dir + "/lab.env").c_str());
  return 0;  // the servers stop as their owners go out of scope
}
