// Internal to certfleet_agent_config: the readers for each part of
// agent.yaml, called in order by ParseAgentConfig (agent_config.cc). Each
// reads its part and reports every problem to the Reader's Diagnostics; none
// stops at the first problem.
//
//   ParseContext ctx{reader, fs, "/etc/certfleet"};
//   ParseTargets(ctx, root.Get("targets"), &cfg.targets);
#ifndef CERTFLEET_AGENT_CONFIG_SECTIONS_H_
#define CERTFLEET_AGENT_CONFIG_SECTIONS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "common/filesystem.h"
#include "common/yaml/environment_map.h"
#include "common/yaml/yaml_reader.h"

namespace certfleet::agent::internal {

using ::certfleet::yaml::Field;
using ::certfleet::yaml::Mapping;
using ::certfleet::yaml::Reader;

struct ParseContext {
  Reader& reader;
  Filesystem& fs;
  // Directory relative paths are resolved against; "" leaves them relative.
  std::string base_dir;
};

// "agent.yaml:12:11", for "first at ..." in duplicate reports.
std::string Where(ParseContext& ctx, const Field& field);

// A file path, resolved against base_dir. Returns true when a non-empty
// path was read; when `required`, reports a missing or empty one.
bool ReadPath(ParseContext& ctx, const Field& field, bool required,
              std::string* out);

// ReadPath, then the file must exist and not be a directory.
bool ReadExistingFile(ParseContext& ctx, const Field& field, bool required,
                      std::string* out);

// A permission mode written in octal, as a string ("0640") or a number
// (0640, 640): at most 0777.
bool ReadMode(ParseContext& ctx, const Field& field, mode_t* out);

// argv as a list of strings, program first as an absolute path to an
// executable file. Returns true when a non-empty command was read.
bool ReadCommand(ParseContext& ctx, const Field& field,
                 std::vector<std::string>* out);

// A DNS host name, lower-cased, trailing dot dropped; "*." allowed as the
// whole leftmost label when `allow_wildcard`.
bool ReadDnsName(ParseContext& ctx, const Field& field, bool allow_wildcard,
                 std::string* out);

// The name of a target: letters, digits, ".", "_" and "-", starting with a
// letter or digit, at most 64 characters.
bool ReadTargetName(ParseContext& ctx, const Field& field, std::string* out);

// targets.cc: the list of targets, with the checks across them (unique
// names, directories that do not overlap).
void ParseTargets(ParseContext& ctx, const Field& field,
                  std::vector<TargetSpec>* out);

// target_parts.cc: one target's files and health checks. `target` already
// holds the target's name, mode and required names.
void ParseFiles(ParseContext& ctx, const Field& field, TargetSpec* target);
void ParseHealthChecks(ParseContext& ctx, const Field& field,
                       TargetSpec* target);

}  // namespace certfleet::agent::internal

#endif  // CERTFLEET_AGENT_CONFIG_SECTIONS_H_
