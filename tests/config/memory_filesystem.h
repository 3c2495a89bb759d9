// An in-memory Filesystem for config tests: files with contents and modes,
// nothing on disk. Only what the config loader uses is meaningful.
//
//   MemoryFilesystem fs;
//   fs.Add("/etc/certfleet/tsig.secret", "c2VjcmV0", 0600);
#ifndef CERTFLEET_TESTS_CONFIG_MEMORY_FILESYSTEM_H_
#define CERTFLEET_TESTS_CONFIG_MEMORY_FILESYSTEM_H_

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/filesystem.h"

namespace certfleet::config::testing {

class MemoryFilesystem : public Filesystem {
 public:
  void Add(const std::string& path, const std::string& data,
           mode_t mode = 0600) {
    files_[path] = File{data, mode};
  }

  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) {
      return absl::NotFoundError(
          absl::StrCat("open ", path, ": No such file or directory"));
    }
    return it->second.data;
  }
  absl::Status WriteFileAtomic(const std::string& path, const std::string& data,
                               mode_t mode) override {
    Add(path, data, mode);
    return absl::OkStatus();
  }
  absl::StatusOr<FileInfo> Stat(const std::string& path) override {
    FileInfo info;
    auto it = files_.find(path);
    if (it == files_.end()) return info;
    info.exists = true;
    info.mode = it->second.mode;
    info.size = static_cast<int64_t>(it->second.data.size());
    return info;
  }
  absl::Status MakeDirs(const std::string&, mode_t) override {
    return absl::OkStatus();
  }
  absl::Status Remove(const std::string& path) override {
    files_.erase(path);
    return absl::OkStatus();
  }

 private:
  struct File {
    std::string data;
    mode_t mode;
  };
  std::map<std::string, File> files_;
};

}  // namespace certfleet::config::testing

#endif  // CERTFLEET_TESTS_CONFIG_MEMORY_FILESYSTEM_H_
