// The etcd backend's record encoding: every record kind round-trips field
// for field (nanoseconds, both infinities, NUL bytes, maps, nested DNS
// records); non-UTF-8 list/map fields are refused naming the field; bytes
// that are not a record are kDataLoss naming the kind.
#include "coordinator/store/record_codec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "certfleet/v1/store.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/filled_record.h"
#include "tests/store/status_or_matchers.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kAt = absl::FromUnixNanos(1'800'000'000'123'456'789);
const std::string kBinary("k\0e\xffy", 5);
const std::string kNotUtf8("\xc3\x28", 2);

template <typename Record>
void ExpectRoundTrip(const Record& r) {
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeRecord(r));
  Record back;
  ASSERT_OK(DecodeRecord(bytes, &back));
  EXPECT_TRUE(back == r);
}

TEST(RecordCodecTest, EveryRecordRoundTrips) {
  ExpectRoundTrip(AccountRecord{.issuer = "le",
                                .directory_url = "https://ca/dir",
                                .account_url = "https://ca/acct/1",
                                .key_type = "ec256",
                                .key_sealed = kBinary,
                                .contacts = {"mailto:a@example.test", "é"},
                                .status = "valid",
                                .created_at = kAt,
                                .updated_at = absl::InfiniteFuture()});
  ExpectRoundTrip(CertificateState{.name = "web",
                                   .next_attempt_at = absl::InfinitePast(),
                                   .renew_at = absl::InfiniteFuture(),
                                   .consecutive_failures = 3,
                                   .last_error = "rate limited",
                                   .last_attempt_at = kAt,
                                   .updated_at = kAt,
                                   .limited_by = "300 new orders per 3h"});
  ExpectRoundTrip(VersionRecord{.cert_name = "web",
                                .version = 7,
                                .issuer = "le",
                                .names = {"*.example.test", "example.test"},
                                .key_type = "rsa2048",
                                .serial_hex = "0a1b",
                                .not_before = kAt - absl::Hours(1),
                                .not_after = kAt + absl::Hours(2000),
                                .leaf_pem = "leaf",
                                .chain_pem = "chain",
                                .key_sealed = kBinary,
                                .order_url = "https://ca/order/1",
                                .ari_cert_id = "aki.serial",
                                .created_at = kAt,
                                .revoked_at = absl::InfinitePast(),
                                .revocation_reason = ""});
  ExpectRoundTrip(
      OrderRecord{.cert_name = "web",
                  .issuer = "le",
                  .order_url = "https://ca/order/2",
                  .spec_fingerprint = "fp",
                  .names = {"a.example.test"},
                  .key_type = "ec384",
                  .key_sealed = kBinary,
                  .stage = "presented",
                  .dns_records = {{"bind", "example.test.",
                                   "_acme-challenge.a.example.test.", "v1"},
                                  {"bind", "example.test.",
                                   "_acme-challenge.example.test.", "v2"}},
                  .replaces = "aki.old",
                  .created_at = kAt,
                  .updated_at = kAt});
  ExpectRoundTrip(AgentRecord{.id = "agt-0123456789ab",
                              .hostname = "web-1",
                              .labels = {{"pool", "p0"}, {"role", "web"}},
                              .enrolled_at = kAt,
                              .last_seen_at = kAt,
                              .identity_serial = "ff",
                              .identity_not_after = kAt + absl::Hours(24),
                              .token_id = "0011223344556677",
                              .status = AgentStatus::kDisabled,
                              .status_changed_at = kAt,
                              .status_changed_by = "admin:alice"});
  ExpectRoundTrip(TokenRecord{.id = "0011223344556677",
                              .secret_hash = std::string(32, '\0'),
                              .labels = {{"role", "web"}},
                              .created_at = kAt,
                              .expires_at = kAt + absl::Hours(1),
                              .used_at = absl::InfinitePast(),
                              .used_by = "",
                              .description = "rack 3",
                              .for_agent = "agt-0123456789ab"});
  ExpectRoundTrip(InternalCaRecord{
      .cert_pem = "ca", .key_sealed = kBinary, .created_at = kAt});
  ExpectRoundTrip(TargetStateRecord{.agent_id = "agt-0123456789ab",
                                    .target = "www",
                                    .certificate = "web",
                                    .desired_version_id = "web/3",
                                    .installed_version_id = "web/2",
                                    .serial = "0a",
                                    .not_after = kAt,
                                    .healthy = true,
                                    .detail = "served",
                                    .last_error = "reload: exit 1",
                                    .last_error_version_id = "web/3",
                                    .updated_at = kAt});
  ExpectRoundTrip(RolloutRecord{.id = "ro-0123456789ab",
                                .certificate = "web",
                                .kind = "rollback",
                                .from_version = "web/3",
                                .to_version = "web/2",
                                .phase = "baking",
                                .created_at = kAt,
                                .updated_at = kAt,
                                .finished = true,
                                .state_json = "{\"phase\":\"baking\"}",
                                .revision = 42});
  ExpectRoundTrip(AuditRecord{.id = 9,
                              .at = kAt,
                              .actor = "admin:alice",
                              .action = "rollout.pause",
                              .certificate = "web",
                              .detail = "",
                              .result = "ok"});
}

// Found by fuzzing (tests/fuzz/record_codec_fuzzer.cc): protobuf lays out
// map entries in an order that differs from one map instance to the next,
// so a record with labels encoded to different bytes at every call.
TEST(RecordCodecTest, EncodingIsDeterministic) {
  AgentRecord agent{.id = "agt-0123456789ab", .hostname = "web-1"};
  TokenRecord token{.id = "0011223344556677"};
  for (int i = 0; i < 32; ++i) {
    agent.labels[absl::StrCat("label", i)] = absl::StrCat("value", i);
    token.labels[absl::StrCat("label", i)] = absl::StrCat("value", i);
  }
  ASSERT_OK_AND_ASSIGN(const std::string agent_bytes, EncodeRecord(agent));
  ASSERT_OK_AND_ASSIGN(const std::string token_bytes, EncodeRecord(token));
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(EncodeRecord(agent).value_or(""), agent_bytes);
    EXPECT_EQ(EncodeRecord(token).value_or(""), token_bytes);
  }
}

TEST(RecordCodecTest, DefaultRecordsRoundTrip) {
  ExpectRoundTrip(VersionRecord{});
  ExpectRoundTrip(TokenRecord{});
  ExpectRoundTrip(RolloutRecord{});
  ExpectRoundTrip(AgentRecord{.status = AgentStatus::kRemoved});
}

// An agent written by a coordinator from before statuses (fields 9-11
// absent) reads as active, never changed.
TEST(RecordCodecTest, AgentWithoutStatusFieldsIsActive) {
  ::certfleet::store::v1::Agent old;
  old.set_id("agt-0123456789ab");
  old.set_identity_serial("0a");
  std::string bytes;
  ASSERT_TRUE(old.SerializeToString(&bytes));
  AgentRecord agent;
  ASSERT_OK(DecodeRecord(bytes, &agent));
  EXPECT_EQ(agent.status, AgentStatus::kActive);
  EXPECT_EQ(agent.status_changed_at, absl::InfinitePast());
  EXPECT_EQ(agent.status_changed_by, "");

  old.set_status("retired");
  ASSERT_TRUE(old.SerializeToString(&bytes));
  EXPECT_THAT(DecodeRecord(bytes, &agent),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("unknown status \"retired\"")));
}

TEST(RecordCodecTest, NonUtf8ListAndMapFieldsAreRefusedByName) {
  EXPECT_THAT(EncodeRecord(VersionRecord{.names = {"ok", kNotUtf8}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("names")));
  EXPECT_THAT(
      EncodeRecord(AccountRecord{.contacts = {kNotUtf8}}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contacts")));
  EXPECT_THAT(
      EncodeRecord(AgentRecord{.labels = {{"role", kNotUtf8}}}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("labels")));
  OrderRecord order;
  order.dns_records = {{"bind", "example.test.", kNotUtf8, "v"}};
  EXPECT_THAT(
      EncodeRecord(order).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dns_records")));
}

// The codec walks the record tables by reflection; what it writes is what
// the generated setters (the codec of earlier releases) wrote, byte for
// byte, so etcd data stays readable by an older coordinator and back.
TEST(RecordCodecTest, EncodingIsWhatTheGeneratedSettersWrite) {
  const AgentRecord agent = FilledRecord<AgentRecord>();
  ::certfleet::store::v1::Agent a;
  a.set_id(agent.id);
  a.set_hostname(agent.hostname);
  a.mutable_labels()->insert(agent.labels.begin(), agent.labels.end());
  a.set_enrolled_at(absl::ToUnixNanos(agent.enrolled_at));
  a.set_last_seen_at(absl::ToUnixNanos(agent.last_seen_at));
  a.set_identity_serial(agent.identity_serial);
  a.set_identity_not_after(absl::ToUnixNanos(agent.identity_not_after));
  a.set_token_id(agent.token_id);
  a.set_status("disabled");
  a.set_status_changed_at(absl::ToUnixNanos(agent.status_changed_at));
  a.set_status_changed_by(agent.status_changed_by);
  // One label: the order of map entries is the generated code's to choose.
  a.mutable_labels()->erase("zone");
  AgentRecord one_label = agent;
  one_label.labels.erase("zone");
  std::string want;
  ASSERT_TRUE(a.SerializeToString(&want));
  EXPECT_THAT(EncodeRecord(one_label), IsOkAndHolds(want));

  const OrderRecord order = FilledRecord<OrderRecord>();
  ::certfleet::store::v1::Order o;
  o.set_cert_name(order.cert_name);
  o.set_issuer(order.issuer);
  o.set_order_url(order.order_url);
  o.set_spec_fingerprint(order.spec_fingerprint);
  for (const std::string& n : order.names) o.add_names(n);
  o.set_key_type(order.key_type);
  o.set_key_sealed(order.key_sealed);
  o.set_stage(order.stage);
  for (const DnsRecordRef& d : order.dns_records) {
    ::certfleet::store::v1::DnsRecordRef* p = o.add_dns_records();
    p->set_provider(d.provider);
    p->set_zone(d.zone);
    p->set_fqdn(d.fqdn);
    p->set_value(d.value);
  }
  o.set_replaces(order.replaces);
  o.set_created_at(absl::ToUnixNanos(order.created_at));
  o.set_updated_at(absl::ToUnixNanos(order.updated_at));
  for (const std::string& c : order.answered_challenges) {
    o.add_answered_challenges(c);
  }
  o.set_answered_at(absl::ToUnixNanos(order.answered_at));
  ASSERT_TRUE(o.SerializeToString(&want));
  EXPECT_THAT(EncodeRecord(order), IsOkAndHolds(want));
}

TEST(RecordCodecTest, GarbageIsDataLossNamingTheKind) {
  VersionRecord v;
  EXPECT_THAT(DecodeRecord("\xff\xff\xff", &v),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("certfleet.store.v1.Version")));
}

}  // namespace
}  // namespace certfleet::store
