// Retention of certificate versions: what is deleted, what is kept whatever
// its age, and that each deletion is audited and counted.
#include "coordinator/retention/version_pruner.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/store/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::retention {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Duration kDay = absl::Hours(24);

class CountingObserver : public PrunerObserver {
 public:
  void OnVersionsPruned(const std::string& certificate, int count) override {
    pruned[certificate] += count;
  }
  void OnPruneFailed(const std::string& certificate) override {
    failed.push_back(certificate);
  }
  std::map<std::string, int> pruned;
  std::vector<std::string> failed;
};

// A store whose deletions fail for one certificate.
class FailingDeleteStore : public store::InMemoryStore {
 public:
  absl::Status DeleteVersion(const std::string& cert_name,
                             int64_t version) override {
    if (cert_name == "broken") return absl::UnavailableError("disk I/O error");
    return InMemoryStore::DeleteVersion(cert_name, version);
  }
};

class VersionPrunerTest : public ::testing::Test {
 protected:
  VersionPrunerTest()
      : pruner_(store_, clock_, {.expired_versions = 30 * kDay}, &observer_) {}

  // A version of `cert` that expired `ago` (negative: still valid).
  void AddVersionExpired(const std::string& cert, absl::Duration ago) {
    ASSERT_OK(store_
                  .AddVersion({.cert_name = cert,
                               .not_after = clock_.Now() - ago,
                               .key_sealed = "sealed"})
                  .status());
  }

  std::vector<int64_t> Versions(const std::string& cert) {
    std::vector<int64_t> out;
    absl::StatusOr<std::vector<store::VersionRecord>> all =
        store_.ListVersions(cert);
    EXPECT_OK(all.status());
    if (all.ok()) {
      for (const store::VersionRecord& v : *all) out.push_back(v.version);
    }
    return out;
  }

  void AddRollout(const std::string& id, const std::string& cert,
                  const std::string& from, const std::string& to,
                  bool finished) {
    ASSERT_OK(store_
                  .CreateRollout({.id = id,
                                  .certificate = cert,
                                  .kind = "rollout",
                                  .from_version = from,
                                  .to_version = to,
                                  .phase = finished ? "complete" : "wave",
                                  .created_at = clock_.Now(),
                                  .finished = finished})
                  .status());
    clock_.Advance(absl::Seconds(1));
  }

  FailingDeleteStore store_;
  testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000),
                            testing::FakeClock::Mode::kManual};
  CountingObserver observer_;
  VersionPruner pruner_;
};

TEST_F(VersionPrunerTest, DeletesVersionsExpiredLongerThanTheRetention) {
  AddVersionExpired("web", 90 * kDay);   // 1
  AddVersionExpired("web", 31 * kDay);   // 2
  AddVersionExpired("web", 29 * kDay);   // 3: expired, not long enough
  AddVersionExpired("web", -60 * kDay);  // 4: valid

  ASSERT_OK_AND_ASSIGN(PruneReport report,
                       pruner_.Prune(Context::Background()));
  EXPECT_EQ(report.deleted, 2);
  EXPECT_EQ(report.failed, 0);
  EXPECT_THAT(Versions("web"), ElementsAre(4, 3));
  EXPECT_EQ(observer_.pruned["web"], 2);
}

TEST_F(VersionPrunerTest, KeepsTheNewestVersionHoweverOld) {
  AddVersionExpired("web", 400 * kDay);
  AddVersionExpired("web", 300 * kDay);
  ASSERT_OK_AND_ASSIGN(PruneReport report,
                       pruner_.Prune(Context::Background()));
  EXPECT_EQ(report.deleted, 1);
  EXPECT_THAT(Versions("web"), ElementsAre(2));
  // And the next issuance does not reuse a number.
  EXPECT_THAT(store_.AddVersion({.cert_name = "web"}),
              ::certfleet::testing::IsOk());
  EXPECT_THAT(Versions("web"), ElementsAre(3, 2));
}

TEST_F(VersionPrunerTest, KeepsWhatTheNewestAndTheActiveRolloutName) {
  for (int i = 0; i < 5; ++i) AddVersionExpired("web", (100 - i) * kDay);
  AddVersionExpired("web", -60 * kDay);  // 6
  // web/1 → web/2 finished long ago: nothing keeps those.
  AddRollout("ro-old", "web", "web/1", "web/2", /*finished=*/true);
  // The newest rollout, a rollback from 4 to 3, finished.
  AddRollout("ro-back", "web", "web/4", "web/3", /*finished=*/true);
  // In flight: 5 to 6.
  AddRollout("ro-now", "web", "web/5", "web/6", /*finished=*/false);

  ASSERT_OK_AND_ASSIGN(PruneReport report,
                       pruner_.Prune(Context::Background()));
  // The newest rollout is ro-now (5, 6), the active one too; ro-back is
  // older, so 3 and 4 go with 1 and 2.
  EXPECT_EQ(report.deleted, 4);
  EXPECT_THAT(Versions("web"), ElementsAre(6, 5));
}

TEST_F(VersionPrunerTest, KeepsBothEndsOfTheNewestFinishedRollout) {
  for (int i = 0; i < 4; ++i) AddVersionExpired("web", (100 - i) * kDay);
  // The operator rolled back from 4 to 2: web/2 is being served and web/4
  // is the newest; web/1 and web/3 are free.
  AddRollout("ro-back", "web", "web/4", "web/2", /*finished=*/true);
  ASSERT_OK_AND_ASSIGN(PruneReport report,
                       pruner_.Prune(Context::Background()));
  EXPECT_EQ(report.deleted, 2);
  EXPECT_THAT(Versions("web"), ElementsAre(4, 2));
}

TEST_F(VersionPrunerTest, AuditsEachCertificatesDeletions) {
  AddVersionExpired("web", 90 * kDay);
  AddVersionExpired("web", 80 * kDay);
  AddVersionExpired("web", 1 * kDay);
  AddVersionExpired("api", 90 * kDay);  // its only version: kept
  ASSERT_OK(pruner_.Prune(Context::Background()).status());

  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> audit,
                       store_.ListAudit({}));
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "version.prune");
  EXPECT_EQ(audit[0].actor, "coordinator");
  EXPECT_EQ(audit[0].certificate, "web");
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_THAT(audit[0].detail, HasSubstr("deleted versions 1,2"));
}

TEST_F(VersionPrunerTest, AFailingCertificateDoesNotStopTheOthers) {
  AddVersionExpired("broken", 90 * kDay);
  AddVersionExpired("broken", 1 * kDay);
  AddVersionExpired("web", 90 * kDay);
  AddVersionExpired("web", 1 * kDay);
  ASSERT_OK_AND_ASSIGN(PruneReport report,
                       pruner_.Prune(Context::Background()));
  EXPECT_EQ(report.deleted, 1);
  EXPECT_EQ(report.failed, 1);
  EXPECT_THAT(observer_.failed, ElementsAre("broken"));
  EXPECT_THAT(Versions("broken"), ElementsAre(2, 1));  // nothing lost
  EXPECT_THAT(Versions("web"), ElementsAre(2));
}

TEST_F(VersionPrunerTest, PruneIfDueRunsAtMostOncePerInterval) {
  pruner_.PruneIfDue(Context::Background());  // the first pass: nothing yet
  AddVersionExpired("web", 90 * kDay);
  AddVersionExpired("web", -1 * kDay);

  clock_.Advance(absl::Minutes(59));
  pruner_.PruneIfDue(Context::Background());
  EXPECT_THAT(Versions("web"), ElementsAre(2, 1));  // not due yet

  clock_.Advance(absl::Minutes(1));
  pruner_.PruneIfDue(Context::Background());
  EXPECT_THAT(Versions("web"), ElementsAre(2));
}

TEST_F(VersionPrunerTest, ACancelledPassStopsBeforeTheNextCertificate) {
  AddVersionExpired("api", 90 * kDay);
  AddVersionExpired("api", 1 * kDay);
  auto cancelled = std::make_shared<Cancellation>();
  cancelled->Cancel();
  ASSERT_OK_AND_ASSIGN(
      PruneReport report,
      pruner_.Prune(Context::Background().WithCancellation(cancelled)));
  EXPECT_EQ(report.deleted, 0);
  EXPECT_THAT(Versions("api"), ElementsAre(2, 1));
}

}  // namespace
}  // namespace certfleet::retention
