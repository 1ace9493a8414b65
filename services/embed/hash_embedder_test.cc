#include "services/embed/hash_embedder.h"

#include <gtest/gtest.h>

#include <cmath>

namespace quarry::embed {
namespace {

float Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  float dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i];
  return dot;
}

std::vector<float> EmbedOne(HashEmbedder& embedder, const std::string& text) {
  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder.Embed({text});
  EXPECT_TRUE(vectors.ok()) << vectors.status();
  return vectors.ok() ? (*vectors)[0] : std::vector<float>();
}

TEST(HashEmbedder, IsDeterministicNormalisedAndOfTheConfiguredDimension) {
  HashEmbedder embedder(64);
  std::vector<float> a = EmbedOne(embedder, "VACUUM FULL rewrites the whole table");
  ASSERT_EQ(a.size(), 64u);
  EXPECT_EQ(a, EmbedOne(embedder, "VACUUM FULL rewrites the whole table"));
  EXPECT_NEAR(Cosine(a, a), 1.0f, 1e-5);
}

TEST(HashEmbedder, RelatedTextIsCloserThanUnrelatedText) {
  HashEmbedder embedder;
  std::vector<float> query = EmbedOne(embedder, "how to create a partial index");
  std::vector<float> near = EmbedOne(
      embedder, "A partial index is an index built over a subset of a table; CREATE INDEX");
  std::vector<float> far = EmbedOne(embedder, "The weather in Lisbon is sunny in July");
  EXPECT_GT(Cosine(query, near), Cosine(query, far) + 0.1f);
}

TEST(HashEmbedder, CaseAndWidthAreFoldedAndChineseIsSegmented) {
  HashEmbedder embedder;
  EXPECT_NEAR(Cosine(EmbedOne(embedder, "PostgreSQL"), EmbedOne(embedder, "postgresql")), 1.0f,
              1e-5);
  EXPECT_NEAR(Cosine(EmbedOne(embedder, "ＡＢＣ"), EmbedOne(embedder, "abc")), 1.0f, 1e-5);
  std::vector<float> query = EmbedOne(embedder, "如何创建索引");
  std::vector<float> near = EmbedOne(embedder, "使用 CREATE INDEX 命令创建索引");
  std::vector<float> far = EmbedOne(embedder, "今天天气很好");
  EXPECT_GT(Cosine(query, near), Cosine(query, far));
}

TEST(HashEmbedder, TextWithoutWordsIsRejectedAndInvalidUtf8IsSurvived) {
  HashEmbedder embedder;
  absl::StatusOr<std::vector<std::vector<float>>> none = embedder.Embed({"fine", " ... !? "});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("text 1"), absl::string_view::npos);
  EXPECT_EQ(EmbedOne(embedder, std::string("caf\xc3 ok \xff\xfe", 10)).size(), 384u);
}

}  // namespace
}  // namespace quarry::embed
