// The grammar of configured names (targets, issuers, DNS providers,
// certificates), which agents' reports must follow too.
#include "common/names.h"

#include <string>

#include "gtest/gtest.h"

namespace certfleet {
namespace {

TEST(NamesTest, ObjectNamesFollowOneGrammar) {
  for (const char* good : {"www", "a", "Nginx-1.main_tls", "0www"}) {
    EXPECT_TRUE(IsObjectName(good)) << good;
  }
  EXPECT_TRUE(IsObjectName(std::string(64, 'x')));
  for (const std::string& bad :
       {std::string(""), std::string(65, 'x'), std::string(".hidden"),
        std::string("-x"), std::string("_x"), std::string("../etc"),
        std::string("a/b"), std::string("a b"), std::string("www\n"),
        std::string("w\0w", 3), std::string("caf\xc3\xa9")}) {
    EXPECT_FALSE(IsObjectName(bad)) << bad;
  }
}

}  // namespace
}  // namespace certfleet
