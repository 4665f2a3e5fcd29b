// assemble_event_fields: the fields an event holds, from the values a
// decoder found in document order — single values, repeated keys and
// arrays, empty arrays — and null for everything else it was not given.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/document.h"

using namespace vigil;

namespace {
std::string render(const Value& v) {
  std::string s;
  append_json(s, v);
  return s;
}
}  // namespace

TEST(EventFields, SingleValuesRepeatedKeysArraysAndEmptyArrays) {
  Arena arena(1024);
  constexpr std::size_t kFields = 10;
  // Document order as a decoder reports it: field 7 seen twice (a nested and
  // a dotted key), 2 from an array, 5 an empty array, 9 null.
  std::vector<PendingField> pending = {
      {3, Value::string("one"), false},  {7, Value::integer(1), false}, {2, Value::string("a"), true},
      {2, Value::string("b"), true},     {5, Value::null(), true},      {7, Value::integer(2), false},
      {9, Value::null(), false},         {0, Value::boolean(true), false},
  };
  Event e;
  assemble_event_fields(pending, kFields, arena, e);
  EXPECT_EQ(e.field_count, kFields);
  EXPECT_EQ(render(e.get(3)), "\"one\"");
  EXPECT_EQ(render(e.get(7)), "[1,2]");
  EXPECT_EQ(render(e.get(2)), "[\"a\",\"b\"]");
  EXPECT_EQ(e.get(5).kind(), ValueKind::Array);  // present, no values
  EXPECT_TRUE(e.get(5).as_array().empty());
  EXPECT_TRUE(e.get(9).is_null());
  EXPECT_EQ(render(e.get(0)), "true");
  for (FieldId absent : {1u, 4u, 6u, 8u, 10u, 1000u}) EXPECT_TRUE(e.get(absent).is_null()) << absent;
}

TEST(EventFields, EventsOfOneArenaKeepTheirOwnValues) {
  // The fast path (each field once, no arrays) and the general one, one
  // after the other in one arena: neither overwrites the other's values.
  Arena arena(64);  // small blocks: the events' slots and values span several
  constexpr std::size_t kFields = 40;
  std::vector<Event> events(30);
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::vector<PendingField> pending;
    for (FieldId f = 0; f < kFields; f += 3) pending.push_back({f, Value::integer(static_cast<std::int64_t>(i * 100 + f)), false});
    if (i % 2) pending.push_back({1, Value::integer(static_cast<std::int64_t>(i)), true});
    assemble_event_fields(pending, kFields, arena, events[i]);
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    for (FieldId f = 0; f < kFields; ++f) {
      const Value& v = events[i].get(f);
      if (f % 3 == 0) {
        ASSERT_EQ(v.kind(), ValueKind::Int) << i << " " << f;
        EXPECT_EQ(v.as_int(), static_cast<std::int64_t>(i * 100 + f));
      } else if (f == 1 && i % 2) {
        EXPECT_EQ(render(v), "[" + std::to_string(i) + "]");
      } else {
        EXPECT_TRUE(v.is_null()) << i << " " << f;
      }
    }
  }
}
