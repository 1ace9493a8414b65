#include "shard/chunk_filter.h"

#include <gtest/gtest.h>

namespace quarry::shard {
namespace {

v1::Chunk MakeChunk(const std::string& tenant, const std::string& doc,
                    std::vector<std::string> groups = {}) {
  v1::Chunk chunk;
  chunk.set_tenant(tenant);
  chunk.set_doc_id(doc);
  for (const std::string& group : groups) chunk.add_acl_groups(group);
  return chunk;
}

v1::Principal MakePrincipal(const std::string& tenant, std::vector<std::string> groups = {}) {
  v1::Principal principal;
  principal.set_tenant(tenant);
  for (const std::string& group : groups) principal.add_groups(group);
  return principal;
}

// Each row of the ACL matrix is checked both on the stored chunk and on the compact attributes
// that searches use, so the two paths cannot drift apart.
TEST(ChunkFilter, AclMatrixAgreesForChunksAndAttributes) {
  struct Case {
    v1::Chunk chunk;
    v1::Principal principal;
    bool visible;
  } cases[] = {
      {MakeChunk("acme", "d"), MakePrincipal("acme"), true},                    // public chunk
      {MakeChunk("acme", "d"), MakePrincipal("globex"), false},                 // tenant mismatch
      {MakeChunk("acme", "d", {"hr"}), MakePrincipal("acme"), false},           // no groups
      {MakeChunk("acme", "d", {"hr"}), MakePrincipal("acme", {"eng"}), false},  // group mismatch
      {MakeChunk("acme", "d", {"hr", "eng"}), MakePrincipal("acme", {"eng"}), true},
      {MakeChunk("acme", "d", {"hr"}), MakePrincipal("globex", {"hr"}), false},
  };
  StringPool pool;
  std::vector<ChunkAttrs> attrs;
  for (const Case& c : cases) attrs.push_back(MakeChunkAttrs(c.chunk, pool));
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(IsVisible(cases[i].chunk, cases[i].principal), cases[i].visible) << "case " << i;
    ChunkFilter filter(cases[i].principal, v1::Filter(), pool);
    EXPECT_EQ(!filter.matches_nothing() && filter.Matches(attrs[i]), cases[i].visible)
        << "case " << i;
  }
}

TEST(ChunkFilter, MetadataValuesRangesAndDocumentIds) {
  StringPool pool;
  v1::Chunk chunk = MakeChunk("acme", "manual");
  (*chunk.mutable_metadata())["lang"].set_text("en");
  (*chunk.mutable_metadata())["year"].set_number(2021);
  ChunkAttrs attrs = MakeChunkAttrs(chunk, pool);
  MakeChunkAttrs(MakeChunk("acme", "other"), pool);
  pool.Intern("zh");

  auto matches = [&](const v1::Filter& filter) {
    ChunkFilter compiled(MakePrincipal("acme"), filter, pool);
    return !compiled.matches_nothing() && compiled.Matches(attrs);
  };
  v1::Filter lang;
  auto* match = lang.add_metadata();
  match->set_key("lang");
  match->add_values("zh");
  EXPECT_FALSE(matches(lang));
  match->add_values("en");
  EXPECT_TRUE(matches(lang));

  v1::Filter years;
  years.add_ranges()->set_key("year");
  years.mutable_ranges(0)->set_min(2020);
  years.mutable_ranges(0)->set_max(2021);
  EXPECT_TRUE(matches(years));
  years.mutable_ranges(0)->set_min(2022);
  years.mutable_ranges(0)->clear_max();
  EXPECT_FALSE(matches(years));

  v1::Filter docs;
  docs.add_doc_ids("other");
  EXPECT_FALSE(matches(docs));
  docs.add_doc_ids("manual");
  EXPECT_TRUE(matches(docs));
}

TEST(ChunkFilter, UnknownStringsMatchNothing) {
  StringPool pool;
  MakeChunkAttrs(MakeChunk("acme", "d"), pool);
  EXPECT_TRUE(ChunkFilter(MakePrincipal("nobody"), v1::Filter(), pool).matches_nothing());
  v1::Filter filter;
  filter.add_metadata()->set_key("missing");
  filter.mutable_metadata(0)->add_values("x");
  EXPECT_TRUE(ChunkFilter(MakePrincipal("acme"), filter, pool).matches_nothing());
}

}  // namespace
}  // namespace quarry::shard
