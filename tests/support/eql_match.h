// Test helper: does an EQL event query match a JSON document? Compiles the
// query, decodes the document as the NDJSON reader would, evaluates. Test
// expectations (EXPECT_*) report a query or document that does not compile
// or decode.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "eql/compiler.h"
#include "ingest/event_reader.h"

namespace vigil::test {

inline bool eql_matches_doc(std::string_view query, std::string_view doc, const eql::CompileOptions& options = {}) {
  FieldRegistry fields;
  auto compiled = eql::compile_query(query, fields, options);
  EXPECT_TRUE(compiled.ok()) << (compiled.ok() ? "" : compiled.error().message) << "\n" << query;
  if (!compiled) return false;
  EventReader reader(fields);
  Arena arena;
  Event event;
  std::string reason;
  EXPECT_TRUE(reader.decode_one(doc, event, arena, reason)) << reason;
  eql::EvalContext ctx;
  return eql::matches(*compiled->program, event, ctx);
}

}  // namespace vigil::test
