// Writes the seeds that our own code has to make, into
// <out>/<target>/gen-*: records encoded by the etcd record codec, replies
// signed with the fuzz TSIG key, DNS replies built by ldns, a certificate
// chain with its keys (valid 2020 to 2120), CSRs, bootstrap tokens, version
// records, rollout states and sealed keys. The other seeds (ACME JSON, headers,
// YAML) are written by hand. Keys are random, so a run changes the committed
// files; run it only when a format changes:
//
//   ninja -C build-fuzz fuzz_corpus_gen
//   build-fuzz/tests/fuzz/fuzz_corpus_gen tests/fuzz/corpus
#include <ldns/ldns.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/install/state_files.h"
#include "common/crypto/certificate_builder.h"
#include "common/crypto/csr.h"
#include "common/crypto/encoding.h"
#include "common/crypto/kek.h"
#include "common/crypto/private_key.h"
#include "coordinator/dns/tsig.h"
#include "coordinator/rollout/rollout_state.h"
#include "coordinator/store/record_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace certfleet::fuzz {
namespace {

std::string out_dir;

void Write(const std::string& target, const std::string& name,
           const std::string& bytes) {
  const std::string dir = absl::StrCat(out_dir, "/", target);
  std::filesystem::create_directories(dir);
  std::ofstream f(absl::StrCat(dir, "/gen-", name), std::ios::binary);
  f << bytes;
  if (!f) {
    std::fprintf(stderr, "cannot write %s/gen-%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, v.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(v);
}

// ---- DNS -------------------------------------------------------------

// A reply built by ldns from presentation-format records.
std::string Reply(uint16_t id, ldns_pkt_rcode rcode, bool aa,
                  const std::string& question, ldns_rr_type qtype,
                  const std::vector<std::string>& answer,
                  const std::vector<std::string>& authority,
                  const std::vector<std::string>& additional,
                  bool edns = false) {
  ldns_pkt* pkt = ldns_pkt_new();
  ldns_pkt_set_id(pkt, id);
  ldns_pkt_set_qr(pkt, true);
  ldns_pkt_set_aa(pkt, aa);
  ldns_pkt_set_rcode(pkt, static_cast<uint8_t>(rcode));
  ldns_rr* q = ldns_rr_new();
  ldns_rr_set_owner(q, ldns_dname_new_frm_str(question.c_str()));
  ldns_rr_set_type(q, qtype);
  ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(q, true);
  ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, q);
  auto push = [&](ldns_pkt_section section,
                  const std::vector<std::string>& rrs) {
    for (const std::string& text : rrs) {
      ldns_rr* rr = nullptr;
      if (ldns_rr_new_frm_str(&rr, text.c_str(), 300, nullptr, nullptr) !=
          LDNS_STATUS_OK) {
        std::fprintf(stderr, "bad record %s\n", text.c_str());
        std::exit(1);
      }
      ldns_pkt_push_rr(pkt, section, rr);
    }
  };
  push(LDNS_SECTION_ANSWER, answer);
  push(LDNS_SECTION_AUTHORITY, authority);
  push(LDNS_SECTION_ADDITIONAL, additional);
  if (edns) {
    ldns_pkt_set_edns_udp_size(pkt, 1232);
    ldns_pkt_set_edns_extended_rcode(pkt, 1);  // with rcode 0: BADVERS (16)
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK) {
    std::fprintf(stderr, "cannot encode a reply\n");
    std::exit(1);
  }
  std::string out(reinterpret_cast<char*>(wire), size);
  free(wire);
  ldns_pkt_free(pkt);
  return out;
}

void DnsSeeds() {
  const std::string txt = Reply(
      0x1234, LDNS_RCODE_NOERROR, true, "_acme-challenge.www.example.test.",
      LDNS_RR_TYPE_TXT,
      {"_acme-challenge.www.example.test. 60 IN TXT \"LoqXcYV8q5ONbJQxbmR7S\" "
       "\"CMUPtjZ2Oy9Q-dTYq1b0\"",
       "_acme-challenge.www.example.test. 60 IN TXT \"second-value\""},
      {}, {});
  const std::string soa = Reply(
      0x2345, LDNS_RCODE_NXDOMAIN, true, "missing.example.test.",
      LDNS_RR_TYPE_A, {},
      {"example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. "
       "2024010101 3600 600 86400 300"},
      {});
  const std::string ns =
      Reply(0x3456, LDNS_RCODE_NOERROR, true, "example.test.", LDNS_RR_TYPE_NS,
            {"example.test. 300 IN NS ns1.example.test.",
             "example.test. 300 IN NS ns2.example.test."},
            {},
            {"ns1.example.test. 300 IN A 127.0.0.1",
             "ns2.example.test. 300 IN AAAA ::1"});
  const std::string cname =
      Reply(0x4567, LDNS_RCODE_NOERROR, false,
            "_acme-challenge.app.example.test.", LDNS_RR_TYPE_TXT,
            {"_acme-challenge.app.example.test. 60 IN CNAME "
             "app.acme-delegate.example.net.",
             "app.acme-delegate.example.net. 60 IN TXT \"delegated\""},
            {}, {}, /*edns=*/true);
  Write("dns_reply", "txt", txt);
  Write("dns_reply", "nxdomain-soa", soa);
  Write("dns_reply", "ns-glue", ns);
  Write("dns_reply", "cname-edns", cname);

  // TSIG: the replies a name server sends to a signed UPDATE, signed with
  // the request MAC (RFC 8945 §4.3.1), and one refusing the key unsigned.
  const dns::TsigKey key = Must(
      dns::TsigKey::Create(kTsigKeyName, kTsigAlgorithm, kTsigSecretBase64),
      "TSIG key");
  std::string update_reply("\x12\x34\xa8\x00\x00\x01\x00\x00\x00\x00\x00\x00",
                           12);  // QR UPDATE
  update_reply.append(
      "\x07"
      "example"
      "\x04"
      "test"
      "\x00",
      14);
  update_reply.append("\x00\x06\x00\x01", 4);  // zone: SOA IN
  std::string signed_update = update_reply;
  Must(dns::TsigSign(key, Now(), &signed_update, kTsigRequestMac), "sign");
  Write("tsig", "update-reply", signed_update);
  std::string signed_txt = txt;
  Must(dns::TsigSign(key, Now(), &signed_txt, kTsigRequestMac), "sign");
  Write("tsig", "txt-reply", signed_txt);
  std::string refused = update_reply;
  refused[3] = 9;  // NOTAUTH
  refused[11] = 1;
  refused.append(
      "\x0e"
      "certfleet-fuzz"
      "\x00",
      16);
  refused.append("\x00\xfa\x00\xff\x00\x00\x00\x00", 8);
  std::string rdata(
      "\x0b"
      "hmac-sha256"
      "\x00",
      13);
  rdata.append("\x00\x00\x6b\x49\xd2\x00\x01\x2c", 8);  // time, fudge
  rdata.append("\x00\x00\x12\x34\x00\x11\x00\x00", 8);  // no MAC, BADKEY
  refused.push_back(0);
  refused.push_back(static_cast<char>(rdata.size()));
  refused += rdata;
  Write("tsig", "badkey", refused);
}

// ---- certificates, keys, CSRs, bundles --------------------------------

void CryptoSeeds() {
  using namespace crypto;
  const absl::Time from = absl::FromUnixSeconds(1'577'836'800);   // 2020
  const absl::Time until = absl::FromUnixSeconds(4'733'510'400);  // 2120
  const PrivateKey root_key =
      Must(PrivateKey::Generate(KeyType::kEc384), "root key");
  const Certificate root =
      Must(SelfSignCertificate(
               {.common_name = "Fuzz Root",
                .not_before = from,
                .not_after = until,
                .is_ca = true,
                .key_usage = {.key_cert_sign = true, .crl_sign = true}},
               root_key),
           "root");
  const PrivateKey inter_key =
      Must(PrivateKey::Generate(KeyType::kEc256), "intermediate key");
  const Certificate inter = Must(
      IssueCertificate({.common_name = "Fuzz Intermediate",
                        .not_before = from,
                        .not_after = until,
                        .is_ca = true,
                        .path_length = 0,
                        .key_usage = {.key_cert_sign = true, .crl_sign = true}},
                       PublicKey::Of(inter_key), root, root_key),
      "intermediate");
  auto leaf_for = [&](const PrivateKey& key, const std::string& serial) {
    return Must(
        IssueCertificate({.common_name = "www.example.test",
                          .dns_names = {"www.example.test", "*.example.test"},
                          .ip_addresses = {"127.0.0.1", "::1"},
                          .uris = {"spiffe://certfleet/agent/agt-000000000001"},
                          .not_before = from,
                          .not_after = until,
                          .key_usage = {.digital_signature = true},
                          .extended_key_usage = {ExtendedKeyUsage::kServerAuth,
                                                 ExtendedKeyUsage::kClientAuth},
                          .serial_hex = serial},
                         PublicKey::Of(key), inter, inter_key),
        "leaf");
  };
  const PrivateKey ec_key = Must(PrivateKey::Generate(KeyType::kEc256), "key");
  const PrivateKey rsa_key =
      Must(PrivateKey::Generate(KeyType::kRsa2048), "rsa key");
  const Certificate ec_leaf = leaf_for(ec_key, "0a1b2c3d4e5f");
  const Certificate rsa_leaf = leaf_for(rsa_key, "80ff00");
  const std::string chain = inter.ToPem() + root.ToPem();
  const std::string ec_key_pem = Must(ec_key.ToPem(), "key pem");
  const std::string rsa_key_pem = Must(rsa_key.ToPem(), "key pem");

  Write("pem_chain", "fullchain", ec_leaf.ToPem() + chain);
  Write("pem_chain", "leaf-and-key", rsa_leaf.ToPem() + rsa_key_pem);
  Write("pem_chain", "leaf-der", ec_leaf.ToDer());
  Write("pem_chain", "root-der", root.ToDer());
  Write("pem_chain", "key-ec384", Must(root_key.ToPem(), "key pem"));
  Write("pem_chain", "spki-ec256",
        Must(PublicKey::Of(ec_key).SubjectPublicKeyInfoDer(), "spki"));

  const std::string sep(kFieldSeparator);
  Write("bundle", "ec",
        ec_leaf.ToPem() + sep + inter.ToPem() + sep + ec_key_pem);
  Write("bundle", "rsa-full-chain",
        rsa_leaf.ToPem() + sep + chain + sep + rsa_key_pem);
  Write("bundle", "key-mismatch",
        ec_leaf.ToPem() + sep + inter.ToPem() + sep + rsa_key_pem);
  Write("bundle", "no-chain", ec_leaf.ToPem() + sep + sep + ec_key_pem);

  Write("csr", "ec256", Must(BuildCsrDer(ec_key, {"agt-000000000001"}), "csr"));
  Write("csr", "ec384",
        Must(BuildCsrDer(root_key, {"www.example.test", "*.example.test"}),
             "csr"));
  Write("csr", "rsa2048", Must(BuildCsrDer(rsa_key, {"host.example"}), "csr"));

  agent::VersionInfo info{.version_id = "www/7",
                          .certificate = "www",
                          .serial = ec_leaf.SerialHex(),
                          .not_after = ec_leaf.NotAfter(),
                          .written_at = Now(),
                          .leaf_pem = ec_leaf.ToPem()};
  Write("version_info", "full", agent::EncodeVersionInfo(info));
  info.leaf_pem.clear();
  Write("version_info", "no-leaf", agent::EncodeVersionInfo(info));
}

// ---- tokens and store records -------------------------------------------

void TokenSeeds() {
  for (int i = 0; i < 3; ++i) {
    Write("token", absl::StrCat("token-", i),
          absl::StrCat("cft1.", TokenId(i), ".",
                       crypto::Base64UrlEncode(TokenSecret(i))));
  }
  Write("token", "random",
        absl::StrCat("cft1.", crypto::HexEncode(crypto::RandomBytes(8)), ".",
                     crypto::Base64UrlEncode(crypto::RandomBytes(32))));
}

template <typename Record>
void Record1(const std::string& name, const Record& r) {
  Write("record_codec", name, Must(store::EncodeRecord(r), name.c_str()));
}

void RecordSeeds() {
  using namespace store;
  const absl::Time at = absl::FromUnixNanos(1'800'000'000'123'456'789);
  const std::string binary("k\0e\xffy", 5);
  Record1("account", AccountRecord{.issuer = "le",
                                   .directory_url = "https://ca.test/dir",
                                   .account_url = "https://ca.test/acct/1",
                                   .key_type = "ec256",
                                   .key_sealed = binary,
                                   .contacts = {"mailto:ops@example.test"},
                                   .status = "valid",
                                   .created_at = at,
                                   .updated_at = absl::InfiniteFuture()});
  Record1("certificate-state",
          CertificateState{.name = "www",
                           .next_attempt_at = absl::InfinitePast(),
                           .renew_at = at + absl::Hours(1000),
                           .consecutive_failures = 2,
                           .last_error = "rateLimited",
                           .last_attempt_at = at,
                           .updated_at = at});
  Record1("version",
          VersionRecord{.cert_name = "www",
                        .version = 7,
                        .issuer = "le",
                        .names = {"www.example.test", "*.example.test"},
                        .key_type = "ec256",
                        .serial_hex = "0a1b2c",
                        .not_before = at,
                        .not_after = at + absl::Hours(2160),
                        .leaf_pem = "-----BEGIN CERTIFICATE-----",
                        .chain_pem = "chain",
                        .key_sealed = binary,
                        .order_url = "https://ca.test/order/1",
                        .ari_cert_id = "aki.serial",
                        .created_at = at,
                        .revoked_at = absl::InfinitePast()});
  Record1("order",
          OrderRecord{
              .cert_name = "www",
              .issuer = "le",
              .order_url = "https://ca.test/order/2",
              .spec_fingerprint = "fp",
              .names = {"www.example.test"},
              .key_type = "ec384",
              .key_sealed = binary,
              .stage = "presented",
              .dns_records = {{"bind", "example.test.",
                               "_acme-challenge.www.example.test.", "value"}},
              .replaces = "aki.old",
              .created_at = at,
              .updated_at = at});
  Record1("agent", AgentRecord{.id = "agt-0123456789ab",
                               .hostname = "web-1",
                               .labels = {{"pool", "edge"}, {"env", "prod"}},
                               .enrolled_at = at,
                               .last_seen_at = at,
                               .identity_serial = "0a",
                               .identity_not_after = at + absl::Hours(72),
                               .token_id = TokenId(0)});
  Record1("token", TokenRecord{.id = TokenId(0),
                               .secret_hash = crypto::Sha256("secret"),
                               .labels = {{"role", "web"}},
                               .created_at = at,
                               .expires_at = at + absl::Hours(1),
                               .used_at = absl::InfinitePast(),
                               .description = "rack 7"});
  Record1("internal-ca",
          InternalCaRecord{
              .cert_pem = "pem", .key_sealed = binary, .created_at = at});
  Record1("target-state", TargetStateRecord{.agent_id = "agt-0123456789ab",
                                            .target = "nginx",
                                            .certificate = "www",
                                            .desired_version_id = "www/7",
                                            .installed_version_id = "www/6",
                                            .serial = "0a1b",
                                            .not_after = at,
                                            .healthy = true,
                                            .detail = "serves 0a1b",
                                            .last_error = "reload: exit 1",
                                            .last_error_version_id = "www/5",
                                            .updated_at = at});
  Record1("rollout", RolloutRecord{.id = "ro-0123456789ab",
                                   .certificate = "www",
                                   .kind = "rollout",
                                   .from_version = "www/6",
                                   .to_version = "www/7",
                                   .phase = "baking",
                                   .created_at = at,
                                   .updated_at = at,
                                   .finished = false,
                                   .state_json = "{\"waves\":[]}",
                                   .revision = 3});
  Record1("audit", AuditRecord{.id = 42,
                               .at = at,
                               .actor = "admin:alice",
                               .action = "rollout.pause",
                               .certificate = "www",
                               .detail = "reason: canary",
                               .result = "ok"});
}

void RolloutSeeds() {
  using namespace rollout;
  const absl::Time at = absl::FromUnixNanos(1'800'000'000'123'456'789);
  RolloutState state;
  state.certificate = "www";
  state.from_version = "www/6";
  state.to_version = "www/7";
  state.requested_by = "admin:alice";
  state.phase = Phase::kBaking;
  state.wave = 1;
  state.created_at = at;
  state.wave_started_at = at + absl::Minutes(5);
  state.bake_started_at = at + absl::Minutes(6);
  state.updated_at = at + absl::Minutes(6);
  state.window_opens_at = absl::InfiniteFuture();
  state.offline_waiting = {"agt-000000000003/nginx"};
  HostRecord healthy{.agent_id = "agt-000000000001",
                     .target = "nginx",
                     .pool = "edge-eu",
                     .state = HostState::kHealthy,
                     .wave = 0,
                     .online = true,
                     .delivered_at = at + absl::Minutes(1),
                     .healthy_at = at + absl::Minutes(2)};
  HostRecord failed = healthy;
  failed.agent_id = "agt-000000000002";
  failed.state = HostState::kReverting;
  failed.wave = 1;
  failed.failed_at = at + absl::Minutes(7);
  failed.failure = "health: serial 0a served, want 0b";
  HostRecord queued{
      .agent_id = "agt-000000000003", .target = "nginx", .pool = "edge-us"};
  state.hosts = {healthy, failed, queued};
  Write("rollout_state", "baking", RolloutStateToJson(state));
  state.kind = RolloutKind::kRollback;
  state.expedite = true;
  state.phase = Phase::kPaused;
  state.paused_from = Phase::kDelivering;
  state.paused_at = at + absl::Minutes(8);
  state.halt_reason = "operator";
  Write("rollout_state", "paused-rollback", RolloutStateToJson(state));
  Write("rollout_state", "empty", RolloutStateToJson(RolloutState{}));
}

void SealedKeySeeds() {
  const crypto::Kek kek = crypto::Kek::FromBytes(std::string(32, 'k'));
  Write(
      "sealed_key", "www",
      Must(kek.Seal("-----BEGIN PRIVATE KEY-----\nMC4CAQA=\n", "www"), "seal"));
  Write("sealed_key", "empty", Must(kek.Seal("", "www"), "seal"));
  const crypto::Kek other = crypto::Kek::FromBytes(std::string(32, 'o'));
  Write("sealed_key", "other-kek", Must(other.Seal("key", "www"), "seal"));
}

}  // namespace
}  // namespace certfleet::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  certfleet::fuzz::out_dir = argv[1];
  certfleet::fuzz::DnsSeeds();
  certfleet::fuzz::CryptoSeeds();
  certfleet::fuzz::TokenSeeds();
  certfleet::fuzz::RecordSeeds();
  certfleet::fuzz::RolloutSeeds();
  certfleet::fuzz::SealedKeySeeds();
  return 0;
}
