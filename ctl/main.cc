// certfleetctl: the operators' command-line client of a coordinator's admin
// API (see ctl_args.h for the commands, docs/certfleetctl.md for more).
#include <string>
#include <vector>

#include "common/filesystem.h"
#include "ctl/ctl_run.h"

int main(int argc, char** argv) {
  certfleet::LocalFilesystem fs;
  return certfleet::ctl::RunCtl(std::vector<std::string>(argv + 1, argv + argc),
                                certfleet::ctl::EnvironmentLookup(), fs);
}
