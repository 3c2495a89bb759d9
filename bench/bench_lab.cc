#include "bench/bench_lab.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bench/measured_process.h"

namespace certfleet::bench {

absl::StatusOr<std::unique_ptr<BenchLab>> BenchLab::Start(
    const BenchLabOptions& options) {
  std::unique_ptr<BenchLab> lab(new BenchLab());
  harness::BindOptions bind_options;
  bind_options.zones.push_back({.name = kBenchZone});
  absl::StatusOr<std::unique_ptr<harness::BindServer>> bind =
      harness::BindServer::Start(bind_options);
  if (!bind.ok()) {
    return absl::Status(bind.status().code(),
                        absl::StrCat("BIND9: ", bind.status().message()));
  }
  lab->bind_ = *std::move(bind);
  absl::StatusOr<std::unique_ptr<harness::PebbleServer>> pebble =
      harness::PebbleServer::Start(
          {.dns_server = lab->bind_->address(),
           .no_sleep = true,
           .nonce_reject_percent = options.nonce_reject_percent,
           .authz_reuse_percent = 0});
  if (!pebble.ok()) {
    return absl::Status(pebble.status().code(),
                        absl::StrCat("Pebble: ", pebble.status().message()));
  }
  lab->pebble_ = *std::move(pebble);
  return lab;
}

std::string BenchLab::IssuanceConfig(const std::string& issuer_limits) const {
  auto quoted = [](const std::string& s) {
    return absl::StrCat("\"", s, "\"");
  };
  return absl::StrCat(
      "dns:\n  resolvers: [", quoted(dns_address()), "]\n",
      "  nameserver_port: ", dns_port(), "\n",
      "  propagation_interval: 10ms\n  propagation_timeout: 60s\n",
      "issuers:\n  - name: pebble\n", "    directory: ", directory_url(), "\n",
      "    trust_bundle: ", ca_bundle_path(), "\n",
      "    contact: [bench@bench.test]\n", issuer_limits,
      "    request_timeout: 30s\n    order_timeout: 5m\n",
      "dns_providers:\n  - name: lab\n    type: rfc2136\n", "    zones: [",
      kBenchZone, "]\n    rfc2136:\n", "      server: ", quoted(dns_address()),
      "\n", "      tsig_key_name: ", tsig_key_name(), "\n",
      "      tsig_secret: ", quoted(tsig_secret()), "\n");
}

int BenchLab::CountIssued(size_t* offset) const {
  std::ifstream in(pebble_->process()->log_path());
  in.seekg(static_cast<std::streamoff>(*offset));
  int issued = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written: read it next time
    *offset += line.size() + 1;
    if (absl::StrContains(line, "Issued certificate serial")) ++issued;
  }
  return issued;
}

double BenchLab::PebbleCpuMs() const {
  absl::StatusOr<double> ms = ProcessCpuMs(pebble_->process()->pid());
  return ms.ok() ? *ms : 0;
}

double BenchLab::BindCpuMs() const {
  absl::StatusOr<double> ms = ProcessCpuMs(bind_->process()->pid());
  return ms.ok() ? *ms : 0;
}

size_t BenchLab::PebbleLogSize() const {
  std::error_code ec;
  const uintmax_t size =
      std::filesystem::file_size(pebble_->process()->log_path(), ec);
  return ec ? 0 : static_cast<size_t>(size);
}

std::map<std::string, int> BenchLab::RequestMix(size_t since) const {
  std::map<std::string, int> mix;
  std::ifstream in(pebble_->process()->log_path());
  in.seekg(static_cast<std::streamoff>(since));
  std::string line;
  while (std::getline(in, line)) {
    // "Pebble 2024/01/02 03:04:05 POST /my-order/abc -> calling handler()"
    if (!absl::EndsWith(line, "-> calling handler()")) continue;
    for (const char* method : {" GET /", " POST /", " HEAD /"}) {
      const size_t at = line.find(method);
      if (at == std::string::npos) continue;
      const size_t path = at + strlen(method);
      size_t end = line.find_first_of("/ ", path);
      if (end == std::string::npos) break;
      if (line[end] == '/') ++end;  // keep "/my-order/" apart from "/dir"
      ++mix[line.substr(at + 1, end - at - 1)];
      break;
    }
  }
  return mix;
}

std::string BenchLab::LogTails() const {
  return absl::StrCat("--- pebble log:\n", pebble_->process()->LogTail(),
                      "\n--- named log:\n", bind_->LogTail(1500));
}

}  // namespace certfleet::bench
