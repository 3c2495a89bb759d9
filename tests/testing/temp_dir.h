// A temporary directory removed (recursively) when the object goes away.
#ifndef CERTFLEET_TESTS_TESTING_TEMP_DIR_H_
#define CERTFLEET_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace certfleet::testing {

class TempDir {
 public:
  // Creates $TMPDIR/certfleet-<prefix>-XXXXXX. Aborts on failure.
  explicit TempDir(const std::string& prefix = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const;
  // Keeps the directory after the test (for debugging failures).
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Writes `data` to `path` (truncating) or aborts the test binary.
void WriteFileOrDie(const std::string& path, const std::string& data,
                    int mode = 0644);
std::string ReadFileOrDie(const std::string& path);

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_TESTING_TEMP_DIR_H_
