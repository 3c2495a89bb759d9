// A fresh lab for one measured run: BIND9 serving bench.test (TSIG-signed
// RFC 2136 updates) and Pebble validating DNS-01 through it, with
// PEBBLE_VA_NOSLEEP=1 and PEBBLE_AUTHZREUSE=0. Each run gets its own pair
// because Pebble slows down as it fills, and so runs do not share state.
// LabCpu() reads how much CPU both servers have used so far, so a pass can
// report the lab's share of the machine beside the client's.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<BenchLab> lab, BenchLab::Start({}));
//   const double before = lab->LabCpuMs();
//   ... run a client against lab->directory_url() ...
//   const double lab_ms = lab->LabCpuMs() - before;
#ifndef CERTFLEET_BENCH_BENCH_LAB_H_
#define CERTFLEET_BENCH_BENCH_LAB_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tests/harness/bind_server.h"
#include "tests/harness/pebble_server.h"

namespace certfleet::bench {

// The zone every benchmark certificate lives in.
inline constexpr char kBenchZone[] = "bench.test";

struct BenchLabOptions {
  // PEBBLE_WFE_NONCEREJECT; Pebble's own default is 5 (%).
  int nonce_reject_percent = 5;
};

class BenchLab {
 public:
  // Starts BIND9 then Pebble (≈ 0.5 s). Errors carry the servers' logs.
  static absl::StatusOr<std::unique_ptr<BenchLab>> Start(
      const BenchLabOptions& options);

  std::string directory_url() const { return pebble_->directory_url(); }
  // PEM of the CA behind Pebble's HTTPS listener (the client's trust bundle).
  const std::string& ca_bundle_path() const {
    return pebble_->ca_bundle_path();
  }
  std::string dns_address() const { return bind_->address(); }  // 127.0.0.1:P
  int dns_port() const { return bind_->port(); }
  const std::string& tsig_key_name() const { return bind_->tsig_key_name(); }
  const std::string& tsig_secret() const { return bind_->tsig_secret(); }
  // coordinator.yaml's `dns`, `issuers` (one, "pebble", this lab's
  // Pebble, with `issuer_limits` — "    limits:\n..." lines, or "" — and
  // the timeouts the benchmarks use) and `dns_providers` (this lab's BIND9
  // for kBenchZone) sections: what a coordinator needs to issue here.
  std::string IssuanceConfig(const std::string& issuer_limits) const;
  // CPU (user + system) each server has used since it started, in ms.
  double PebbleCpuMs() const;
  double BindCpuMs() const;
  double LabCpuMs() const { return PebbleCpuMs() + BindCpuMs(); }
  // Pebble logs one line per request ("POST /order-plz -> calling
  // handler()"). PebbleLogSize() marks a point in the log; RequestMix()
  // counts the requests after it by method and path prefix
  // ("POST /my-order/" → 140): which ACME requests a client really sent.
  size_t PebbleLogSize() const;
  std::map<std::string, int> RequestMix(size_t since) const;
  // Certificates Pebble logged as issued between `*offset` and the end of
  // its log; moves `*offset` to the end of the last whole line read.
  int CountIssued(size_t* offset) const;
  // The ends of both servers' logs, for failure messages.
  std::string LogTails() const;

 private:
  BenchLab() = default;
  std::unique_ptr<harness::BindServer> bind_;
  std::unique_ptr<harness::PebbleServer> pebble_;
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_BENCH_LAB_H_
