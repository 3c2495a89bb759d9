// Every field of every record, set through the record tables
// (record_fields.h) to a value that is not its default, reads back as it
// was written from every backend that instantiates StoreContractTest: a
// member a backend forgets (a column, a message field) fails here.
#include <string>

#include "gmock/gmock.h"
#include "tests/store/filled_record.h"
#include "tests/store/status_or_matchers.h"
#include "tests/store/store_contract_test.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

TEST_P(StoreContractTest, EveryFieldOfEveryRecordReadsBack) {
  const auto account = FilledRecord<AccountRecord>();
  ASSERT_OK(store_->PutAccount(account));
  EXPECT_THAT(store_->GetAccount(account.issuer),
              IsOkAndHolds(Optional(account)));

  const auto state = FilledRecord<CertificateState>();
  ASSERT_OK(store_->PutCertificateState(state));
  EXPECT_THAT(store_->GetCertificateState(state.name),
              IsOkAndHolds(Optional(state)));

  auto version = FilledRecord<VersionRecord>();
  ASSERT_OK_AND_ASSIGN(version.version, store_->AddVersion(version));
  EXPECT_THAT(store_->GetVersion(version.cert_name, version.version),
              IsOkAndHolds(Optional(version)));

  const auto order = FilledRecord<OrderRecord>();
  ASSERT_OK(store_->PutOrder(order));
  EXPECT_THAT(store_->GetOrder(order.cert_name), IsOkAndHolds(Optional(order)));

  const auto agent = FilledRecord<AgentRecord>();
  ASSERT_OK(store_->PutAgent(agent));
  EXPECT_THAT(store_->GetAgent(agent.id), IsOkAndHolds(Optional(agent)));

  const auto token = FilledRecord<TokenRecord>();
  ASSERT_OK(store_->PutToken(token));
  EXPECT_THAT(store_->GetToken(token.id), IsOkAndHolds(Optional(token)));

  const auto ca = FilledRecord<InternalCaRecord>();
  EXPECT_THAT(store_->CreateInternalCaIfAbsent(ca), IsOkAndHolds(ca));
  EXPECT_THAT(store_->GetInternalCa(), IsOkAndHolds(Optional(ca)));

  // The desired version is written apart from what the agent reports.
  const auto target = FilledRecord<TargetStateRecord>();
  ASSERT_OK(store_->PutTargetState(target));
  ASSERT_OK(store_->PutDesiredVersion(target.agent_id, target.target,
                                      target.certificate,
                                      target.desired_version_id));
  EXPECT_THAT(store_->ListTargetStates(target.agent_id),
              IsOkAndHolds(ElementsAre(target)));

  // The store checks the kind and assigns the revision.
  auto rollout = FilledRecord<RolloutRecord>();
  rollout.kind = "rollback";
  rollout.revision = 1;
  EXPECT_THAT(store_->CreateRollout(rollout), IsOkAndHolds(rollout));
  EXPECT_THAT(store_->GetRollout(rollout.id), IsOkAndHolds(Optional(rollout)));

  // The store assigns the id.
  auto audit = FilledRecord<AuditRecord>();
  ASSERT_OK_AND_ASSIGN(audit.id, store_->AppendAudit(audit));
  EXPECT_THAT(store_->ListAudit({}), IsOkAndHolds(ElementsAre(audit)));
}

}  // namespace
}  // namespace certfleet::store
