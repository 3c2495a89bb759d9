// certfleetctl's table output of strings that came from agents (host and
// target names, labels, errors, health details, rollout failures) or from a
// CA (problem details): whatever control characters they hold come out
// escaped, so a hostile agent cannot drive the operator's terminal.
#include "ctl/ctl_format.h"

#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace certfleet::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Every byte a terminal acts on: C0 controls but the newline ending each
// line, DEL, and the UTF-8 of C1 controls (U+0080–U+009F).
bool HasTerminalControls(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

// An ANSI "clear screen, home", an OSC window title ending in BEL, a
// carriage return that would overwrite the line, and a NUL.
const std::string kClear = "\x1b[2J\x1b[H";
const std::string kTitle = "\x1b]0;owned\x07";
const std::string kHostname = "web-1" + kTitle + "\rfake";
const std::string kNul("ok\0hidden", 9);

TEST(TerminalSafeTest, EscapesControlsAndLeavesTextAlone) {
  EXPECT_EQ(TerminalSafe("plain text, Grüße, 日本"), "plain text, Grüße, 日本");
  EXPECT_EQ(TerminalSafe(kClear), "\\x1b[2J\\x1b[H");
  EXPECT_EQ(TerminalSafe(kTitle), "\\x1b]0;owned\\a");
  EXPECT_EQ(TerminalSafe("a\tb\nc\rd\x08\x0b\x0c"), "a\\tb\\nc\\rd\\b\\v\\f");
  EXPECT_EQ(TerminalSafe(kNul), "ok\\x00hidden");
  EXPECT_EQ(TerminalSafe("del\x7f"), "del\\x7f");
  // C1 CSI (U+009B) as UTF-8, and a right-to-left override (U+202E) that
  // would show "txt.exe" as "exe.txt".
  EXPECT_EQ(TerminalSafe("\xc2\x9b"
                         "2J"),
            "\\u009b2J");
  EXPECT_EQ(TerminalSafe("txt.\xe2\x80\xae"
                         "exe"),
            "txt.\\u202eexe");
  // Bytes that are not UTF-8 (a lone 0x9B is CSI to a Latin-1 terminal; an
  // overlong "/"; a truncated sequence).
  EXPECT_EQ(TerminalSafe("\x9b"
                         "2J"),
            "\\x9b2J");
  EXPECT_EQ(TerminalSafe("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(TerminalSafe("ab\xe6\x97"), "ab\\xe6\\x97");
}

TEST(CtlFormatTest, AgentsTableEscapesWhatAgentsReported) {
  v1::ListAgentsResponse agents;
  v1::AgentInfo* a = agents.add_agents();
  a->set_id("agt-000000000001");
  a->set_hostname(kHostname);
  (*a->mutable_labels())["role"] = "web\r\x1b[31m";
  v1::AgentTarget* t = a->add_targets();
  t->set_target("www" + kClear);
  t->set_installed_version("web/1");
  const std::string out = FormatAgents(agents, /*json=*/false);
  EXPECT_FALSE(HasTerminalControls(out)) << out;
  EXPECT_THAT(out, HasSubstr("web-1\\x1b]0;owned\\a\\rfake"));
  EXPECT_THAT(out, HasSubstr("role=web\\r\\x1b[31m"));
  EXPECT_THAT(out, HasSubstr("www\\x1b[2J\\x1b[H:web/1"));

  // JSON keeps the exact strings, encoded by its own escaping.
  const std::string json = FormatAgents(agents, /*json=*/true);
  EXPECT_FALSE(HasTerminalControls(json));
  EXPECT_EQ(nlohmann::json::parse(json)["agents"][0]["hostname"], kHostname);
}

TEST(CtlFormatTest, AgentDetailEscapesErrorsAndHealthDetails) {
  v1::GetAgentResponse response;
  v1::AgentInfo* a = response.mutable_agent();
  a->set_id("agt-000000000001");
  a->set_hostname(kHostname);
  v1::AgentTarget* t = a->add_targets();
  t->set_target("www");
  t->set_installed_version("web/1");
  t->set_serial("0a" + kClear);
  t->set_healthy(false);
  t->set_last_error("reload: " + kNul + "\n\x1b[1Aall good");
  t->set_health_detail(
      "tls: \xe2\x80\xae"
      "dab" +
      kTitle);
  const std::string out = FormatAgent(response, /*json=*/false);
  EXPECT_FALSE(HasTerminalControls(out)) << out;
  EXPECT_THAT(out, HasSubstr("hostname   web-1\\x1b]0;owned\\a\\rfake\n"));
  EXPECT_THAT(out, HasSubstr("0a\\x1b[2J\\x1b[H"));
  EXPECT_THAT(out, HasSubstr("www: last error: reload: ok\\x00hidden\\n"
                             "\\x1b[1Aall good\n"));
  EXPECT_THAT(out, HasSubstr("www: health: tls: \\u202edab\\x1b]0;owned\\a\n"));
}

TEST(CtlFormatTest, RolloutAuditAndCertificatesEscapeForeignText) {
  v1::GetRolloutResponse rollout;
  v1::RolloutInfo* r = rollout.mutable_rollout();
  r->set_id("r1");
  r->set_certificate("web");
  r->set_to_version("web/2");
  r->set_phase("halted");
  r->set_wave_count(1);
  r->set_wave(1);
  r->set_halt_reason("agt-1/www" + kClear + " failed");
  r->add_offline_waiting("agt-2" + kTitle);
  v1::RolloutHost* h = r->add_hosts();
  h->set_agent_id("agt-1");
  h->set_target("www\x1b[8m");
  h->set_state("failed");
  h->set_wave(1);
  h->set_failure("health: " + kNul);
  const std::string rollout_out = FormatRollout(rollout, /*json=*/false);
  EXPECT_FALSE(HasTerminalControls(rollout_out)) << rollout_out;
  EXPECT_THAT(rollout_out, HasSubstr("www\\x1b[8m"));
  EXPECT_THAT(rollout_out, HasSubstr("health: ok\\x00hidden"));
  EXPECT_THAT(rollout_out, HasSubstr("waiting for agt-2\\x1b]0;owned\\a"));

  v1::ListAuditResponse audit;
  v1::AuditEvent* e = audit.add_events();
  e->set_actor("admin:alice");
  e->set_action("agent.relabel");
  e->set_detail("host " + kHostname);
  e->set_result("ok");
  const std::string audit_out = FormatAudit(audit, /*json=*/false);
  EXPECT_FALSE(HasTerminalControls(audit_out)) << audit_out;
  EXPECT_THAT(audit_out, HasSubstr("host web-1\\x1b]0;owned\\a\\rfake"));

  // A CA's problem detail reaches certfleetctl as the last error.
  v1::ListCertificatesResponse certs;
  v1::CertificateSummary* c = certs.add_certificates();
  c->set_name("web");
  c->set_configured(true);
  c->set_consecutive_failures(1);
  c->set_last_error("ACME new-order: HTTP 400: " + kClear + "malformed");
  const std::string certs_out = FormatCertificates(certs, absl::Now(), false);
  EXPECT_FALSE(HasTerminalControls(certs_out)) << certs_out;
  EXPECT_THAT(certs_out, HasSubstr("web: last error: ACME new-order: HTTP "
                                   "400: \\x1b[2J\\x1b[Hmalformed\n"));
  v1::GetCertificateResponse cert;
  *cert.mutable_certificate() = *c;
  const std::string cert_out = FormatCertificate(cert, absl::Now(), false);
  EXPECT_FALSE(HasTerminalControls(cert_out)) << cert_out;
  EXPECT_THAT(cert_out, Not(HasSubstr(kClear)));
}

}  // namespace
}  // namespace certfleet::ctl
