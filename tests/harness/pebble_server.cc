#include "tests/harness/pebble_server.h"

#include <curl/curl.h>
#include <stdlib.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/harness/free_port.h"
#include "tests/harness/harness_files.h"

namespace certfleet::harness {

absl::Status MakeLoopbackTlsFiles(const std::string& dir) {
  const std::string ca_key = dir + "/ca-key.pem", ca = dir + "/ca.pem";
  const std::string key = dir + "/server-key.pem", csr = dir + "/server.csr";
  const std::string cert = dir + "/server.pem", ext = dir + "/server.ext";
  auto run = [](std::vector<std::string> argv) -> absl::Status {
    return RunTool(argv).status();
  };
  absl::Status s =
      run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key, "-out", ca,
           "-days", "2", "-subj", "/CN=certfleet test lab CA"});
  if (!s.ok()) return s;
  s = WriteFileAtomically(ext,
                          "basicConstraints=CA:FALSE\n"
                          "keyUsage=digitalSignature,keyEncipherment\n"
                          "extendedKeyUsage=serverAuth\n"
                          "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n");
  if (!s.ok()) return s;
  s = run({"openssl", "req", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
           "-subj", "/CN=localhost"});
  if (!s.ok()) return s;
  return run({"openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey",
              ca_key, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile",
              ext});
}

absl::StatusOr<std::string> HttpsGet(const std::string& url,
                                     const std::string& ca_path) {
  CURL* curl = curl_easy_init();
  if (!curl) return absl::InternalError("curl_easy_init failed");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_path.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("GET ", url, ": ", curl_easy_strerror(rc)));
  }
  if (status < 200 || status > 299) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET ", url, ": HTTP ", status, ": ", body));
  }
  return body;
}

absl::StatusOr<std::unique_ptr<PebbleServer>> PebbleServer::Start(
    PebbleOptions options) {
  constexpr int kStartAttempts = 3;
  absl::StatusOr<std::unique_ptr<PebbleServer>> server;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    server = StartOnce(options);
    // Pebble exits with "listen tcp 127.0.0.1:P: bind: address already in
    // use" when a port was taken between PickFreePort() and its start.
    if (server.ok() || !absl::StrContains(server.status().message(),
                                          "address already in use")) {
      break;
    }
  }
  return server;
}

absl::StatusOr<std::unique_ptr<PebbleServer>> PebbleServer::StartOnce(
    const PebbleOptions& options) {
  std::unique_ptr<PebbleServer> server(new PebbleServer());
  absl::StatusOr<std::string> program = FindProgram("pebble");
  if (!program.ok()) return program.status();
  char tmpl[] = "/tmp/certfleet-pebble-XXXXXX";
  if (!mkdtemp(tmpl)) return absl::InternalError("mkdtemp failed");
  server->dir_ = tmpl;
  const std::string& dir = server->dir_;
  if (absl::Status s = MakeLoopbackTlsFiles(dir); !s.ok()) return s;
  server->ca_path_ = dir + "/ca.pem";

  // Pebble binds four ports; pick them all before starting.
  int ports[4];
  for (int& p : ports) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    p = *port;
  }
  server->port_ = ports[0];
  server->management_port_ = ports[1];
  std::string eab_json;
  if (!options.eab_keys.empty()) {
    std::vector<std::string> entries;
    for (const auto& [kid, key] : options.eab_keys) {
      entries.push_back(absl::StrCat("\"", kid, "\": \"", key, "\""));
    }
    eab_json = absl::StrCat(",\n    \"externalAccountMACKeys\": {",
                            absl::StrJoin(entries, ", "), "}");
  }
  const std::string config = absl::StrCat(
      "{\n  \"pebble\": {\n"
      "    \"listenAddress\": \"127.0.0.1:",
      ports[0], "\",\n",
      "    \"managementListenAddress\": \"127.0.0.1:", ports[1], "\",\n",
      "    \"certificate\": \"", dir, "/server.pem\",\n",
      "    \"privateKey\": \"", dir, "/server-key.pem\",\n",
      "    \"httpPort\": ", ports[2], ",\n", "    \"tlsPort\": ", ports[3],
      ",\n", "    \"ocspResponderURL\": \"\",\n",
      "    \"externalAccountBindingRequired\": ",
      options.eab_keys.empty() ? "false" : "true", eab_json, "\n  }\n}\n");
  if (absl::Status s = WriteFileAtomically(dir + "/pebble-config.json", config);
      !s.ok()) {
    return s;
  }

  ServerSpec spec{.name = "pebble",
                  .argv = {*program, "-config", dir + "/pebble-config.json",
                           "-strict=false"},
                  .log_path = dir + "/pebble.log",
                  .working_dir = dir};
  if (!options.dns_server.empty()) {
    spec.argv.push_back("-dnsserver");
    spec.argv.push_back(options.dns_server);
  }
  auto env = [&](const char* k, std::string v) {
    spec.extra_env.emplace_back(k, std::move(v));
  };
  env("PEBBLE_VA_NOSLEEP", options.no_sleep ? "1" : "0");
  if (options.always_valid) env("PEBBLE_VA_ALWAYS_VALID", "1");
  env("PEBBLE_WFE_NONCEREJECT", absl::StrCat(options.nonce_reject_percent));
  env("PEBBLE_AUTHZREUSE", absl::StrCat(options.authz_reuse_percent));
  if (options.alternate_roots > 0) {
    env("PEBBLE_ALTERNATE_ROOTS", absl::StrCat(options.alternate_roots));
  }
  if (options.chain_length > 0) {
    env("PEBBLE_CHAIN_LENGTH", absl::StrCat(options.chain_length));
  }
  if (options.orders_per_page > 0) {
    env("PEBBLE_WFE_ORDERS_PER_PAGE", absl::StrCat(options.orders_per_page));
  }
  absl::StatusOr<std::unique_ptr<ServerProcess>> process =
      ServerProcess::Start(std::move(spec));
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);
  for (int port : {ports[0], ports[1]}) {
    if (absl::Status s =
            WaitForTcpPort(port, absl::Seconds(20), server->process_.get());
        !s.ok()) {
      return s;
    }
  }
  // The listener accepting TCP is not proof the ACME handler is up.
  absl::Status last;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> dir_doc =
        HttpsGet(server->directory_url(), server->ca_path_);
    if (dir_doc.ok()) return server;
    last = dir_doc.status();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("pebble did not serve its directory: ", last.ToString(),
                   "; log:\n", server->process_->LogTail()));
}

PebbleServer::~PebbleServer() {
  process_.reset();
  if (!dir_.empty() && getenv("CERTFLEET_KEEP_LAB") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PebbleServer::directory_url() const {
  return absl::StrCat("https://127.0.0.1:", port_, "/dir");
}

std::string PebbleServer::management_url() const {
  return absl::StrCat("https://127.0.0.1:", management_port_);
}

absl::StatusOr<std::string> PebbleServer::ManagementGet(
    const std::string& path) const {
  return HttpsGet(management_url() + path, ca_path_);
}

absl::StatusOr<std::string> PebbleServer::RootPem(int index) const {
  return ManagementGet(absl::StrCat("/roots/", index));
}

absl::StatusOr<std::string> PebbleServer::CertStatus(
    const std::string& serial_hex) const {
  absl::StatusOr<std::string> body =
      ManagementGet("/cert-status-by-serial/" + serial_hex);
  if (!body.ok()) return body.status();
  // {"Certificate": ..., "Status": "Revoked"}: avoid a JSON dependency.
  size_t at = body->find("\"Status\"");
  if (at == std::string::npos) {
    return absl::InternalError("no Status in " + *body);
  }
  size_t q1 = body->find('"', body->find(':', at) + 1);
  size_t q2 = body->find('"', q1 + 1);
  return body->substr(q1 + 1, q2 - q1 - 1);
}

}  // namespace certfleet::harness
