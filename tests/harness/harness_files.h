// Small file helpers for the lab's server wrappers and their tests: a
// private temporary directory, atomic file replacement (the way an agent
// installs certificates, so a server reloading meanwhile never reads half a
// file) and a cursor that returns what a server appended to its log.
//
//   ASSIGN_OR_RETURN(std::string dir, MakeHarnessTempDir("nginx"));
//   RETURN_IF_ERROR(WriteFileAtomically(dir + "/cert.pem", pem));
//   LogCursor cursor(dir + "/error.log");   // starts at the current end
//   ...
//   std::string appended = cursor.ReadNewLines();
#ifndef CERTFLEET_TESTS_HARNESS_HARNESS_FILES_H_
#define CERTFLEET_TESTS_HARNESS_HARNESS_FILES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace certfleet::harness {

// Creates $TMPDIR/certfleet-<prefix>-XXXXXX (mode 0755, so a server's
// unprivileged worker processes may enter it) and returns its path.
absl::StatusOr<std::string> MakeHarnessTempDir(const std::string& prefix);

// Writes `data` to a temporary file beside `path`, then renames it over
// `path`: readers see the old or the new content, never a mix.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& data, int mode = 0644);

// A libcurl CURLOPT_WRITEFUNCTION appending the body to the std::string
// given as CURLOPT_WRITEDATA.
size_t AppendToString(char* data, size_t size, size_t n, void* out);

// The whole file, or kNotFound / kInternal naming the path.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Reads what was appended to a log file since the cursor was made (or last
// read). Only complete lines are returned; a partly written last line waits
// for the next call.
class LogCursor {
 public:
  // Starts at the file's current end (at 0 when it does not exist yet).
  explicit LogCursor(std::string path);

  // The complete lines appended since the last call (each ending in '\n').
  std::string ReadNewLines();

 private:
  std::string path_;
  uint64_t offset_ = 0;
};

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_HARNESS_FILES_H_
