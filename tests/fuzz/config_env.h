// What the YAML config targets give the loaders besides the text: an
// environment for ${VAR} expansion and an in-memory filesystem holding the
// files that deploy/examples/*.yaml (the seeds) name, so a mutated seed gets
// past the file checks and into the rest of the validation.
//
//   config::testing::MemoryFilesystem fs = fuzz::ConfigFiles();
//   ParseConfig(text, "/etc/certfleet/coordinator.yaml", fs, fuzz::Getenv);
#ifndef CERTFLEET_TESTS_FUZZ_CONFIG_ENV_H_
#define CERTFLEET_TESTS_FUZZ_CONFIG_ENV_H_

#include <map>
#include <optional>
#include <string>

#include "tests/config/memory_filesystem.h"

namespace certfleet::fuzz {

inline std::optional<std::string> Getenv(const std::string& name) {
  static const auto* env = new std::map<std::string, std::string>{
      {"CERTFLEET_DEMO_DIR", "/demo"},
      {"CERTFLEET_AGENT_DIR", "/demo/agent"},
      {"CERTFLEET_COORDINATOR_PORT", "8443"},
      {"CERTFLEET_LAB_DNS_PORT", "5353"},
      {"CERTFLEET_LAB_ACME_PORT", "14000"},
      {"CERTFLEET_NGINX_CONF", "/demo/nginx.conf"},
      {"CERTFLEET_NGINX_PREFIX", "/demo/nginx"},
      {"CERTFLEET_NGINX_LOG", "/demo/nginx/error.log"},
      {"CERTFLEET_NGINX_PORT", "8444"},
      {"TSIG_SECRET", "hlzbdRHgDrAU6QRZfAe8pZ4H+odiribZsWKLNvZjxxE="},
      {"EAB_KID", "kid-1"},
  };
  auto it = env->find(name);
  if (it == env->end()) return std::nullopt;
  return it->second;
}

// A filesystem with the example configurations' files in it.
inline config::testing::MemoryFilesystem ConfigFiles() {
  constexpr char kPem[] =
      "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
  config::testing::MemoryFilesystem fs;
  fs.Add("/demo/kek", std::string(32, 'k'), 0600);
  fs.Add("/demo/pebble-ca.pem", kPem, 0644);
  fs.Add("/demo/internal-ca.pem", kPem, 0644);
  fs.Add("/demo/tsig.secret", "hlzbdRHgDrAU6QRZfAe8pZ4H+odiribZsWKLNvZjxxE=\n",
         0600);
  fs.Add("/etc/certfleet/eab.key", "c2VjcmV0\n", 0600);
  fs.Add("/etc/certfleet/p12.password", "secret\n", 0600);
  fs.Add("/usr/sbin/nginx", "", 0755);
  fs.Add("/usr/local/bin/dns-hook", "", 0755);
  return fs;
}

}  // namespace certfleet::fuzz

#endif  // CERTFLEET_TESTS_FUZZ_CONFIG_ENV_H_
