#include "ctl/ctl_args.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/flag_reader.h"
#include "common/labels.h"
#include "common/standard_flags.h"
#include "common/status_macros.h"
#include "common/yaml/duration.h"

namespace certfleet::ctl {
namespace {

constexpr char kUsage[] =
    "usage: certfleetctl [--coordinator HOST:PORT] [--identity FILE]\n"
    "                    [-o table|json] [--timeout DURATION] COMMAND\n"
    "commands:\n"
    "  status                      the coordinator at a glance\n"
    "  certs list                  every certificate, newest version, state\n"
    "  certs show CERT             one certificate and its versions\n"
    "  versions CERT               the versions of CERT, newest first\n"
    "  agents list                 every enrolled agent and its targets\n"
    "  agents show ID              one agent and its targets\n"
    "  agents disable ID [--reason TEXT]\n"
    "                              cut ID's stream and refuse it until "
    "enabled\n"
    "  agents enable ID            let a disabled agent connect again\n"
    "  agents remove ID [--reason TEXT]\n"
    "                              refuse ID for good; it leaves every "
    "rollout\n"
    "  agents relabel ID k=v[,k=v...]\n"
    "                              replace ID's labels (what it receives "
    "follows)\n"
    "  token create --labels k=v[,k=v...] [--ttl DURATION] "
    "[--description TEXT]\n"
    "                              a bootstrap token for a new agent\n"
    "  token create --for-agent ID [--ttl DURATION] [--description TEXT]\n"
    "                              a token that re-enrolls agent ID (same "
    "id,\n"
    "                              labels, history; a new identity)\n"
    "  renew CERT                  renew CERT now (a new version)\n"
    "  rollout status CERT [--watch [--interval 2s]]\n"
    "                              CERT's active (or latest) rollout, per "
    "wave;\n"
    "                              --watch: again at each change until it "
    "ends\n"
    "  rollout pause|resume|abort CERT\n"
    "                              act on CERT's active rollout\n"
    "  rollout skip CERT AGENT     stop CERT's rollout waiting for AGENT\n"
    "  rollback CERT [--to VERSION] [--expedite]\n"
    "                              roll CERT back to VERSION (default: the "
    "previous one)\n"
    "  audit [--since 24h|RFC3339] [--cert NAME] [--limit N]\n"
    "                              the audit log of admin actions, newest "
    "first\n"
    "  help, version\n"
    "--coordinator defaults to $CERTFLEET_COORDINATOR, --identity to\n"
    "$CERTFLEET_IDENTITY (made by `certfleet-coordinator admin-identity "
    "create`).\n"
    "exit status: 0 ok; 1 failure (unreachable, server error); 2 usage "
    "error;\n"
    "             3 refused (not an admin identity); 130 interrupted "
    "(--watch)\n";

absl::Status Extra(const std::vector<std::string>& words, size_t expected) {
  if (words.size() <= expected) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "unexpected argument \"", words[expected], "\" after \"",
      absl::StrJoin(words.begin(), words.begin() + expected, " "), "\""));
}

// The command named by the positional words, and its operand.
absl::Status ReadCommand(const std::vector<std::string>& words, CtlArgs* out) {
  if (words.empty()) {
    return absl::InvalidArgumentError("no command given");
  }
  const std::string& first = words[0];
  const std::string second = words.size() > 1 ? words[1] : "";
  auto operand = [&](const char* what) -> absl::Status {
    if (words.size() < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(first, " ", second, ": which ", what, "?"));
    }
    out->name = words[2];
    return Extra(words, 3);
  };
  if (first == "help" || first == "--help" || first == "-h") {
    out->command = Command::kHelp;
    return absl::OkStatus();
  }
  if (first == "version" || first == "--version") {
    out->command = Command::kVersion;
    return Extra(words, 1);
  }
  if (first == "status") {
    out->command = Command::kStatus;
    return Extra(words, 1);
  }
  if (first == "versions") {
    out->command = Command::kVersions;
    if (words.size() < 2) {
      return absl::InvalidArgumentError("versions: which certificate?");
    }
    out->name = words[1];
    return Extra(words, 2);
  }
  if (first == "renew") {
    out->command = Command::kRenew;
    if (words.size() < 2) {
      return absl::InvalidArgumentError("renew: which certificate?");
    }
    out->name = words[1];
    return Extra(words, 2);
  }
  if (first == "rollback") {
    out->command = Command::kRollback;
    if (words.size() < 2) {
      return absl::InvalidArgumentError("rollback: which certificate?");
    }
    out->name = words[1];
    return Extra(words, 2);
  }
  if (first == "audit") {
    out->command = Command::kAudit;
    return Extra(words, 1);
  }
  if (first == "certs" && second == "list") {
    out->command = Command::kCertsList;
    return Extra(words, 2);
  }
  if (first == "certs" && second == "show") {
    out->command = Command::kCertsShow;
    return operand("certificate");
  }
  if (first == "agents" && second == "list") {
    out->command = Command::kAgentsList;
    return Extra(words, 2);
  }
  if (first == "agents" && second == "show") {
    out->command = Command::kAgentsShow;
    return operand("agent id");
  }
  if (first == "agents") {
    static const std::pair<const char*, Command> kAgentCommands[] = {
        {"disable", Command::kAgentsDisable},
        {"enable", Command::kAgentsEnable},
        {"remove", Command::kAgentsRemove}};
    for (const auto& [word, command] : kAgentCommands) {
      if (second == word) {
        out->command = command;
        return operand("agent id");
      }
    }
    if (second == "relabel") {
      out->command = Command::kAgentsRelabel;
      if (words.size() < 3) {
        return absl::InvalidArgumentError("agents relabel: which agent id?");
      }
      if (words.size() < 4) {
        return absl::InvalidArgumentError(
            "agents relabel: which labels? (k=v[,k=v...]: the agent's new "
            "labels, replacing all of its current ones)");
      }
      out->name = words[2];
      absl::StatusOr<labels::Labels> labels = labels::ParseLabelList(words[3]);
      if (!labels.ok()) {
        return Annotate(labels.status(), "agents relabel");
      }
      out->labels = *std::move(labels);
      return Extra(words, 4);
    }
  }
  if (first == "token" && second == "create") {
    out->command = Command::kTokenCreate;
    return Extra(words, 2);
  }
  if (first == "rollout") {
    static const std::pair<const char*, Command> kRolloutCommands[] = {
        {"status", Command::kRolloutStatus},
        {"pause", Command::kRolloutPause},
        {"resume", Command::kRolloutResume},
        {"abort", Command::kRolloutAbort}};
    for (const auto& [word, command] : kRolloutCommands) {
      if (second == word) {
        out->command = command;
        return operand("certificate");
      }
    }
    if (second == "skip") {
      out->command = Command::kRolloutSkip;
      if (words.size() < 3) {
        return absl::InvalidArgumentError("rollout skip: which certificate?");
      }
      if (words.size() < 4) {
        return absl::InvalidArgumentError(
            "rollout skip: which agent? (rollout skip CERT AGENT)");
      }
      out->name = words[2];
      out->agent = words[3];
      return Extra(words, 4);
    }
  }
  if (first == "certs" || first == "agents" || first == "token" ||
      first == "rollout") {
    const char* choices =
        first == "token"     ? "create"
        : first == "rollout" ? "status, pause, resume, abort, skip"
        : first == "agents"  ? "list, show, disable, enable, remove, relabel"
                             : "list, show";
    return absl::InvalidArgumentError(
        second.empty()
            ? absl::StrCat(first, ": which subcommand? (", choices, ")")
            : absl::StrCat(first, ": unknown subcommand \"", second, "\" (",
                           choices, ")"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown command \"", first, "\""));
}

// --interval: an absl duration ("2s", "500ms", "1m30s"), finite, at least
// kMinWatchInterval.
absl::StatusOr<absl::Duration> ParseInterval(const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--interval: \"", text,
                     "\" is not a duration (such as 2s, 500ms or 1m)"));
  }
  if (d < kMinWatchInterval) {
    return absl::InvalidArgumentError(
        absl::StrCat("--interval: \"", text, "\" is shorter than the minimum, ",
                     absl::FormatDuration(kMinWatchInterval)));
  }
  return d;
}

// --since: an RFC 3339 time, or a duration before now ("24h", "7d").
absl::Status ParseSince(const std::string& text, CtlArgs* out) {
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    out->since_time = t;
    out->since_ago.reset();
    return absl::OkStatus();
  }
  absl::StatusOr<absl::Duration> d = yaml::ParseConfigDuration(text);
  if (!d.ok() || *d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--since: \"", text,
        "\" is neither an RFC 3339 time (2025-03-01T12:00:00Z) nor a "
        "positive duration (24h, 7d)"));
  }
  out->since_ago = *d;
  out->since_time.reset();
  return absl::OkStatus();
}

}  // namespace

EnvLookup EnvironmentLookup() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

const char* CtlUsage() { return kUsage; }

absl::StatusOr<CtlArgs> ParseCtlArgs(const std::vector<std::string>& args,
                                     const EnvLookup& env) {
  CtlArgs out;
  std::vector<std::string> words;
  bool have_labels = false;
  bool have_limit = false;
  std::string labels_text;
  std::optional<std::string> to_text;
  bool have_interval = false;
  bool have_reason = false;
  FlagReader flags(args);
  while (flags.Next()) {
    const std::string& flag = flags.flag();
    if (flag == "--coordinator") {
      ASSIGN_OR_RETURN(out.coordinator, flags.Value());
    } else if (flag == "--identity") {
      ASSIGN_OR_RETURN(out.identity, flags.Value());
    } else if (flag == "-o" || flag == "--output") {
      ASSIGN_OR_RETURN(out.json, ReadOutputFlag(flags));
    } else if (flag == "--timeout" || flag == "--ttl") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      ASSIGN_OR_RETURN(const absl::Duration d,
                       yaml::ParsePositiveDurationFlag(flag, v));
      if (flag == "--ttl") {
        out.ttl = d;
      } else {
        out.timeout = d;
      }
    } else if (flag == "--labels") {
      ASSIGN_OR_RETURN(labels_text, flags.Value());
      have_labels = true;
    } else if (flag == "--description") {
      ASSIGN_OR_RETURN(out.description, flags.Value());
    } else if (flag == "--for-agent") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      if (v.empty()) {
        return absl::InvalidArgumentError("--for-agent: the agent id is empty");
      }
      out.for_agent = v;
    } else if (flag == "--reason") {
      ASSIGN_OR_RETURN(out.reason, flags.Value());
      have_reason = true;
    } else if (flag == "--to") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      // "3" or "web/3" (the certificate is checked once it is known).
      to_text = v;
    } else if (flag == "--expedite") {
      out.expedite = true;
    } else if (flag == "--watch" || flag == "-w") {
      out.watch = true;
    } else if (flag == "--interval") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      ASSIGN_OR_RETURN(out.interval, ParseInterval(v));
      have_interval = true;
    } else if (flag == "--since") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      RETURN_IF_ERROR(ParseSince(v, &out));
    } else if (flag == "--cert") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      if (v.empty()) {
        return absl::InvalidArgumentError("--cert: the certificate is empty");
      }
      out.cert = v;
    } else if (flag == "--limit") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      if (!absl::SimpleAtoi(v, &out.limit) || out.limit <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--limit: \"", v, "\" is not a positive whole number"));
      }
      have_limit = true;
    } else if (absl::StartsWith(flag, "-") && flag != "-h" &&
               flag != "--help" && flag != "--version") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag \"", flags.arg(), "\""));
    } else {
      words.push_back(flags.arg());
    }
  }
  RETURN_IF_ERROR(ReadCommand(words, &out));
  const bool token = out.command == Command::kTokenCreate;
  if (!token && (have_labels || out.ttl || !out.description.empty() ||
                 !out.for_agent.empty())) {
    return absl::InvalidArgumentError(
        "--labels, --for-agent, --ttl and --description belong to `token "
        "create`");
  }
  if (have_reason && out.command != Command::kAgentsDisable &&
      out.command != Command::kAgentsRemove) {
    return absl::InvalidArgumentError(
        "--reason belongs to `agents disable` and `agents remove`");
  }
  if (out.command != Command::kAudit &&
      (out.since_time || out.since_ago || !out.cert.empty() || have_limit)) {
    return absl::InvalidArgumentError(
        "--since, --cert and --limit belong to `audit`");
  }
  if (out.command != Command::kRollback && (to_text || out.expedite)) {
    return absl::InvalidArgumentError(
        "--to and --expedite belong to `rollback`");
  }
  if (out.command != Command::kRolloutStatus && (out.watch || have_interval)) {
    return absl::InvalidArgumentError(
        "--watch and --interval belong to `rollout status`");
  }
  if (have_interval && !out.watch) {
    return absl::InvalidArgumentError(
        "--interval: only with --watch (rollout status CERT --watch "
        "--interval 5s)");
  }
  if (to_text.has_value()) {
    std::string number = *to_text;
    const std::string prefix = absl::StrCat(out.name, "/");
    if (absl::StartsWith(number, prefix)) number = number.substr(prefix.size());
    if (!absl::SimpleAtoi(number, &out.to_version) || out.to_version < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--to: \"", *to_text, "\" is not a version of ",
                       out.name, " (a number such as 3, or ", prefix, "3)"));
    }
  }
  if (token && !out.for_agent.empty()) {
    if (have_labels) {
      return absl::InvalidArgumentError(
          "token create: --labels and --for-agent exclude each other (a "
          "re-enrolled agent keeps its labels; change them with `agents "
          "relabel`)");
    }
  } else if (token) {
    // Required, so an empty shell variable cannot silently make a token
    // that grants no labels.
    if (!have_labels || labels_text.empty()) {
      return absl::InvalidArgumentError(
          "token create: --labels is required (k=v[,k=v...]: the labels "
          "the new agent will have)");
    }
    absl::StatusOr<labels::Labels> labels = labels::ParseLabelList(labels_text);
    if (!labels.ok()) return Annotate(labels.status(), "--labels");
    out.labels = *std::move(labels);
  }
  if (out.command == Command::kHelp || out.command == Command::kVersion) {
    return out;
  }
  if (out.coordinator.empty()) {
    out.coordinator = env("CERTFLEET_COORDINATOR").value_or("");
  }
  if (out.identity.empty()) {
    out.identity = env("CERTFLEET_IDENTITY").value_or("");
  }
  if (out.coordinator.empty()) {
    return absl::InvalidArgumentError(
        "no coordinator given (--coordinator HOST:PORT or "
        "$CERTFLEET_COORDINATOR: the coordinator's admin.listen)");
  }
  if (out.identity.empty()) {
    return absl::InvalidArgumentError(
        "no admin identity given (--identity FILE or $CERTFLEET_IDENTITY: "
        "made by `certfleet-coordinator admin-identity create`)");
  }
  return out;
}

}  // namespace certfleet::ctl
