// The filesystem seam. Logic that reads or writes files takes a Filesystem&;
// tests use an in-memory fake or a temporary directory.
//
//   LocalFilesystem fs;
//   RETURN_IF_ERROR(fs.WriteFileAtomic("/var/lib/certfleet/kek", key, 0600));
#ifndef CERTFLEET_COMMON_FILESYSTEM_H_
#define CERTFLEET_COMMON_FILESYSTEM_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace certfleet {

struct FileInfo {
  bool exists = false;
  bool is_directory = false;
  mode_t mode = 0;  // permission bits only (07777)
  uid_t uid = 0;
  gid_t gid = 0;
  int64_t size = 0;
};

class Filesystem {
 public:
  virtual ~Filesystem() = default;

  // kNotFound when the file does not exist.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;

  // Writes `data` to a temporary file in the same directory, fsyncs it, sets
  // `mode`, renames it over `path` and fsyncs the directory. A reader never
  // sees a partial file; on failure the old file (if any) is untouched.
  virtual absl::Status WriteFileAtomic(const std::string& path,
                                       const std::string& data,
                                       mode_t mode) = 0;

  // Like WriteFileAtomic, but only when nothing is at `path`: of writers
  // racing to create the same file exactly one wins; the others get
  // kAlreadyExists and the winner's file stays. (This default is for fakes:
  // it checks, then writes; LocalFilesystem links the file into place.)
  virtual absl::Status WriteFileExclusive(const std::string& path,
                                          const std::string& data, mode_t mode);

  // `exists` is false (and the status OK) when there is nothing at `path`.
  virtual absl::StatusOr<FileInfo> Stat(const std::string& path) = 0;

  // mkdir -p; existing directories are left as they are.
  virtual absl::Status MakeDirs(const std::string& path, mode_t mode) = 0;

  virtual absl::Status Remove(const std::string& path) = 0;
};

class LocalFilesystem : public Filesystem {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::Status WriteFileAtomic(const std::string& path, const std::string& data,
                               mode_t mode) override;
  absl::Status WriteFileExclusive(const std::string& path,
                                  const std::string& data,
                                  mode_t mode) override;
  absl::StatusOr<FileInfo> Stat(const std::string& path) override;
  absl::Status MakeDirs(const std::string& path, mode_t mode) override;
  absl::Status Remove(const std::string& path) override;
};

// Status for a failed system call on `path`, with the errno text and a code
// chosen from errno (ENOENT → kNotFound, EACCES → kPermissionDenied, …).
absl::Status ErrnoStatus(int err, absl::string_view what,
                         absl::string_view path);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_FILESYSTEM_H_
