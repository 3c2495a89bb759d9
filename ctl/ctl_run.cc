#include "ctl/ctl_run.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "ctl/admin_client.h"
#include "ctl/ctl_format.h"
#include "ctl/interrupt.h"
#include "ctl/watch_rollout.h"

namespace certfleet::ctl {
namespace {

constexpr char kVersion[] = "certfleetctl 0.1.0\n";

void Print(const std::string& text) {
  fwrite(text.data(), 1, text.size(), stdout);
}

// Whoever reads a watch through a pipe sees each snapshot at once.
void PrintNow(FILE* to, const std::string& text) {
  fwrite(text.data(), 1, text.size(), to);
  fflush(to);
}

// Prints a failure as every command does; returns its exit status.
int Fail(const absl::Status& status) {
  const int code = ExitCodeFor(status);
  // The coordinator's message may quote what an agent or a CA said.
  fprintf(
      stderr, "certfleetctl: %s%s\n", TerminalSafe(status.message()).c_str(),
      code == kExitRefused ? " (refused: use an admin identity from "
                             "`certfleet-coordinator admin-identity create`)"
                           : "");
  return code;
}

// `rollout status CERT --watch` (watch_rollout.h), interruptible by SIGINT.
int Watch(const CtlArgs& args, const AdminIdentity& identity) {
  // Before the channel starts gRPC's threads (interrupt.h).
  InterruptCancellation interrupt;
  const Context ctx =
      Context::Background().WithCancellation(interrupt.cancellation());
  std::unique_ptr<AdminClient> client =
      AdminClient::Connect(args.coordinator, identity, args.timeout);
  SystemClock clock;
  const absl::Status s = WatchRollout(
      [&] { return client->GetRollout(args.name); }, clock, ctx,
      {.interval = args.interval, .json = args.json},
      {.snapshot = [](const std::string& t) { PrintNow(stdout, t); },
       .note = [](const std::string& t) { PrintNow(stderr, t); }});
  if (s.code() == absl::StatusCode::kCancelled) return kExitInterrupted;
  return s.ok() ? kExitOk : Fail(s);
}

// The call of `args.command`, formatted.
absl::StatusOr<std::string> Call(const CtlArgs& args, AdminClient& client) {
  const absl::Time now = absl::Now();
  switch (args.command) {
    case Command::kStatus: {
      absl::StatusOr<v1::GetStatusResponse> r = client.GetStatus();
      if (!r.ok()) return r.status();
      return FormatStatus(*r, args.coordinator, args.json);
    }
    case Command::kCertsList: {
      absl::StatusOr<v1::ListCertificatesResponse> r =
          client.ListCertificates();
      if (!r.ok()) return r.status();
      return FormatCertificates(*r, now, args.json);
    }
    case Command::kCertsShow:
    case Command::kVersions: {
      absl::StatusOr<v1::GetCertificateResponse> r =
          client.GetCertificate(args.name);
      if (!r.ok()) return r.status();
      return args.command == Command::kCertsShow
                 ? FormatCertificate(*r, now, args.json)
                 : FormatVersions(*r, now, args.json);
    }
    case Command::kAgentsList: {
      absl::StatusOr<v1::ListAgentsResponse> r = client.ListAgents();
      if (!r.ok()) return r.status();
      return FormatAgents(*r, args.json);
    }
    case Command::kAgentsShow: {
      absl::StatusOr<v1::GetAgentResponse> r = client.GetAgent(args.name);
      if (!r.ok()) return r.status();
      return FormatAgent(*r, args.json);
    }
    case Command::kTokenCreate: {
      absl::StatusOr<v1::CreateTokenResponse> r = client.CreateToken(
          args.labels, args.ttl, args.description, args.for_agent);
      if (!r.ok()) return r.status();
      return FormatToken(*r, args.json);
    }
    case Command::kAgentsDisable:
    case Command::kAgentsEnable:
    case Command::kAgentsRemove:
    case Command::kAgentsRelabel: {
      absl::StatusOr<v1::AgentActionResponse> r =
          args.command == Command::kAgentsDisable
              ? client.DisableAgent(args.name, args.reason)
          : args.command == Command::kAgentsEnable
              ? client.EnableAgent(args.name)
          : args.command == Command::kAgentsRemove
              ? client.RemoveAgent(args.name, args.reason)
              : client.RelabelAgent(args.name, args.labels);
      if (!r.ok()) return r.status();
      return FormatAgentAction(*r, args.command, args.json);
    }
    case Command::kRolloutSkip: {
      absl::StatusOr<v1::GetRolloutResponse> r =
          client.SkipRolloutHost(args.name, args.agent);
      if (!r.ok()) return r.status();
      return FormatRollout(*r, args.json);
    }
    case Command::kRenew: {
      absl::StatusOr<v1::RenewCertificateResponse> r =
          client.RenewCertificate(args.name);
      if (!r.ok()) return r.status();
      return FormatRenew(*r, args.json);
    }
    case Command::kAudit: {
      absl::Time since = absl::InfinitePast();
      if (args.since_time) since = *args.since_time;
      if (args.since_ago) since = now - *args.since_ago;
      absl::StatusOr<v1::ListAuditResponse> r =
          client.ListAudit(since, args.cert, args.limit);
      if (!r.ok()) return r.status();
      return FormatAudit(*r, args.json);
    }
    case Command::kRolloutStatus:
    case Command::kRolloutPause:
    case Command::kRolloutResume:
    case Command::kRolloutAbort: {
      absl::StatusOr<v1::GetRolloutResponse> r =
          args.command == Command::kRolloutStatus ? client.GetRollout(args.name)
          : args.command == Command::kRolloutPause
              ? client.PauseRollout(args.name)
          : args.command == Command::kRolloutResume
              ? client.ResumeRollout(args.name)
              : client.AbortRollout(args.name);
      if (!r.ok()) return r.status();
      return FormatRollout(*r, args.json);
    }
    case Command::kRollback: {
      absl::StatusOr<v1::GetRolloutResponse> r =
          client.Rollback(args.name, args.to_version, args.expedite);
      if (!r.ok()) return r.status();
      return FormatRollout(*r, args.json);
    }
    case Command::kHelp:
    case Command::kVersion:
      break;
  }
  return absl::InternalError("no call for this command");
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return kExitRefused;
    default:
      return kExitFailure;
  }
}

int RunCtl(const std::vector<std::string>& argv, const EnvLookup& env,
           Filesystem& fs) {
  absl::StatusOr<CtlArgs> args = ParseCtlArgs(argv, env);
  if (!args.ok()) {
    fprintf(stderr, "certfleetctl: %s\n%s",
            std::string(args.status().message()).c_str(), CtlUsage());
    return kExitUsage;
  }
  if (args->command == Command::kHelp) {
    Print(CtlUsage());
    return kExitOk;
  }
  if (args->command == Command::kVersion) {
    Print(kVersion);
    return kExitOk;
  }
  absl::StatusOr<std::string> pem = fs.ReadFile(args->identity);
  absl::StatusOr<AdminIdentity> identity =
      pem.ok() ? ParseAdminIdentity(*pem) : pem.status();
  if (!identity.ok()) {
    fprintf(stderr,
            "certfleetctl: identity file %s: %s (make one with "
            "`certfleet-coordinator admin-identity create`)\n",
            args->identity.c_str(),
            std::string(identity.status().message()).c_str());
    return kExitUsage;
  }
  if (args->command == Command::kRolloutStatus && args->watch) {
    return Watch(*args, *identity);
  }
  std::unique_ptr<AdminClient> client =
      AdminClient::Connect(args->coordinator, *identity, args->timeout);
  absl::StatusOr<std::string> out = Call(*args, *client);
  if (!out.ok()) return Fail(out.status());
  Print(*out);
  return kExitOk;
}

}  // namespace certfleet::ctl
