// The names of version directories in a target's .versions/: how the
// agent makes one from a coordinator's version id, and the grammar every
// name read back from disk (journal, directory listing, `current`) must
// match before the agent acts on it.
//
// The grammar is exactly what VersionDirName produces: 1 to
// kMaxVersionNameLength bytes of letters, digits, "-", "." and "_xx" escapes
// (two lower-case hex digits), no leading ".", no "..", and so no "/" and
// never "." or "..". A name is therefore one path component that stays in
// .versions/, is never hidden, and never collides with the agent's own
// temporary names (".tmp-*", ".old-*").
//
//   const std::string name = VersionDirName("www/7");   // "www_2f7"
//   IsValidVersionName(name);                           // true
//   IsValidVersionName("x/../../etc");                  // false
//   VersionIdOfName("www_2f7");                         // "www/7"
#ifndef CERTFLEET_AGENT_INSTALL_VERSION_NAME_H_
#define CERTFLEET_AGENT_INSTALL_VERSION_NAME_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace certfleet::agent {

// Room for ".tmp-<name>-<pid>" and ".old-<name>-<pid>" within NAME_MAX
// (255 bytes on Linux filesystems).
inline constexpr size_t kMaxVersionNameLength = 200;

// The version the agent makes from the files a host served before its
// first install (target_adoption.cc); a valid name.
inline constexpr char kAdoptedVersionName[] = "adopted";

// The name a version id gets on disk: letters, digits and "-" stay; "."
// stays unless it would lead the name or follow another "."; every other
// byte (including "_") becomes "_xx" (hex). Distinct ids get distinct
// names (VersionIdOfName undoes it). "" becomes "_". The result can be
// longer than kMaxVersionNameLength: check with IsValidVersionName.
std::string VersionDirName(absl::string_view version_id);

// True when `name` matches the grammar above.
bool IsValidVersionName(absl::string_view name);

// The version id VersionDirName made `name` from; nullopt when `name` is
// not a valid name.
std::optional<std::string> VersionIdOfName(absl::string_view name);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_VERSION_NAME_H_
