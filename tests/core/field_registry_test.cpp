// FieldRegistry's path tree: the node a reader reaches key by key, whether
// keys come nested or dotted, and nothing for unregistered keys.
#include "core/field_registry.h"

#include <gtest/gtest.h>

#include <string>

using vigil::FieldRegistry;

TEST(FieldRegistry, NestedAndDottedKeysReachTheSameField) {
  FieldRegistry fields;
  auto name = fields.intern("process.parent.name");
  auto image = fields.intern("winlog.event_data.Image");
  FieldRegistry::PathNode process = fields.descend(FieldRegistry::kRoot, "process");
  ASSERT_NE(process, FieldRegistry::kNoNode);
  EXPECT_EQ(fields.node_field(process), FieldRegistry::kNoField);
  EXPECT_TRUE(fields.node_has_children(process));
  FieldRegistry::PathNode nested = fields.descend(fields.descend(process, "parent"), "name");
  EXPECT_EQ(fields.node_field(nested), name);
  EXPECT_EQ(fields.descend(FieldRegistry::kRoot, "process.parent.name"), nested);
  EXPECT_EQ(fields.descend(process, "parent.name"), nested);
  EXPECT_EQ(fields.node_field(fields.descend(fields.descend(FieldRegistry::kRoot, "winlog"), "event_data.Image")), image);
  EXPECT_FALSE(fields.node_has_children(nested));
}

TEST(FieldRegistry, UnregisteredKeysLeadNowhere) {
  FieldRegistry fields;
  fields.intern("process.name");
  EXPECT_EQ(fields.descend(FieldRegistry::kRoot, "Process"), FieldRegistry::kNoNode);  // keys are case-sensitive
  EXPECT_EQ(fields.descend(FieldRegistry::kRoot, "process.nam"), FieldRegistry::kNoNode);
  EXPECT_EQ(fields.descend(FieldRegistry::kRoot, "process.name.x"), FieldRegistry::kNoNode);
  EXPECT_EQ(fields.descend(FieldRegistry::kRoot, ""), FieldRegistry::kNoNode);
  EXPECT_EQ(fields.descend(FieldRegistry::kRoot, "."), FieldRegistry::kNoNode);
  // A name under a parent is not the same name at the top.
  EXPECT_EQ(fields.descend(FieldRegistry::kRoot, "name"), FieldRegistry::kNoNode);
}

TEST(FieldRegistry, ManyNamesStayFindable) {
  // Growing the table (rehashing) keeps every name reachable, and the
  // segments of long names hash whole, not only their first bytes.
  FieldRegistry fields;
  for (int i = 0; i < 3000; ++i) {
    fields.intern("winlog.event_data.a_rather_long_field_name_" + std::to_string(i));
  }
  auto data = fields.descend(FieldRegistry::kRoot, "winlog.event_data");
  for (int i = 0; i < 3000; ++i) {
    std::string key = "a_rather_long_field_name_" + std::to_string(i);
    auto id = fields.find("winlog.event_data." + key);
    ASSERT_TRUE(id.has_value());
    ASSERT_EQ(fields.node_field(fields.descend(data, key)), *id) << key;
  }
  EXPECT_EQ(fields.descend(data, "a_rather_long_field_name_3000"), FieldRegistry::kNoNode);
}

TEST(FieldRegistry, IpFieldsAreKnownByName) {
  FieldRegistry fields;
  EXPECT_TRUE(fields.is_ip(fields.intern("source.ip")));
  EXPECT_TRUE(fields.is_ip(fields.intern("ip")));
  EXPECT_FALSE(fields.is_ip(fields.intern("source.ipx")));
  EXPECT_FALSE(fields.is_ip(fields.intern("zip")));
}
