// A record with every field of its table (record_fields.h) set to a value
// that is not the member's default and differs from field to field, for
// tests that must see every field survive a backend.
//
//   AgentRecord agent = FilledRecord<AgentRecord>();
//   ASSERT_OK(store->PutAgent(agent));
//   EXPECT_THAT(store->GetAgent(agent.id), IsOkAndHolds(Optional(agent)));
#ifndef CERTFLEET_TESTS_STORE_FILLED_RECORD_H_
#define CERTFLEET_TESTS_STORE_FILLED_RECORD_H_

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coordinator/store/record_fields.h"

namespace certfleet::store {

template <typename Record>
Record FilledRecord(int seed = 0);

namespace filled_record_internal {

// The n-th field's value, by type. Strings carry the field's name (and, for
// byte strings, a NUL and a byte that is not UTF-8); times keep nanoseconds.
inline void Fill(const char* name, Column column, int n, std::string* v) {
  *v = absl::StrCat(name, "-", n);
  if (column == Column::kBlob) v->append(std::string("\0\xff", 2));
}
inline void Fill(const char*, Column, int n, int64_t* v) { *v = 100 + n; }
inline void Fill(const char*, Column, int n, int* v) { *v = 100 + n; }
inline void Fill(const char*, Column, int, bool* v) { *v = true; }
inline void Fill(const char*, Column, int n, absl::Time* v) {
  *v = absl::FromUnixNanos(1'800'000'000'000'000'000 + 1'000'000'007 * n);
}
inline void Fill(const char* name, Column, int n, std::vector<std::string>* v) {
  *v = {absl::StrCat(name, "-", n, "-a"), "é"};
}
inline void Fill(const char* name, Column, int n,
                 std::map<std::string, std::string>* v) {
  *v = {{"role", absl::StrCat(name, "-", n)}, {"zone", "é"}};
}
template <typename Enum>
requires std::is_enum_v<Enum>
void Fill(const char*, Column, int, Enum* v) {
  // Every enum's default is its first enumerator.
  *v = static_cast<Enum>(static_cast<int>(Enum{}) + 1);
}

inline void Fill(const char*, Column, int n, std::vector<DnsRecordRef>* v) {
  *v = {FilledRecord<DnsRecordRef>(n), FilledRecord<DnsRecordRef>(n + 1)};
}

}  // namespace filled_record_internal

template <typename Record>
Record FilledRecord(int seed) {
  Record r;
  int n = seed * 100;
  ForEachField<Record>([&](const auto& field) {
    filled_record_internal::Fill(field.name, field.column, n++,
                                 &(r.*field.member));
  });
  return r;
}

}  // namespace certfleet::store

#endif  // CERTFLEET_TESTS_STORE_FILLED_RECORD_H_
