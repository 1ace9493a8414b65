#include "shard/faiss_index.h"

#include <faiss/impl/IDSelector.h>
#include <gtest/gtest.h>
#include <omp.h>

#include "shard/test_util.h"

namespace quarry::shard {
namespace {

constexpr int kDim = 16;

std::vector<float> Vectors(int n, uint64_t seed) {
  std::vector<float> all;
  for (int i = 0; i < n; ++i) {
    std::vector<float> v = testing::RandomVector(kDim, seed + i);
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

TEST(FaissIndex, RejectsUnknownSpecsAndIdMaps) {
  absl::StatusOr<std::unique_ptr<FaissIndex>> bad =
      FaissIndex::Create(kDim, Metric::kL2, "NoSuchIndex42");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("NoSuchIndex42"), absl::string_view::npos);
  EXPECT_EQ(FaissIndex::Create(kDim, Metric::kL2, "IDMap,Flat").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FaissIndex::Create(0, Metric::kL2, "Flat").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Every index type that claims selector support must honour it: only admitted labels return.
TEST(FaissIndex, SelectorFiltersInsideTheSearch) {
  struct OddLabels : faiss::IDSelector {
    bool is_member(faiss::Index::idx_t label) const override { return label % 2 == 1; }
  } odd;
  const int n = 2000;
  std::vector<float> data = Vectors(n, 1);
  for (const char* spec : {"Flat", "HNSW16", "IVF8,Flat"}) {
    SCOPED_TRACE(spec);
    auto index = FaissIndex::Create(kDim, Metric::kInnerProduct, spec);
    ASSERT_TRUE(index.ok()) << index.status();
    ASSERT_TRUE((*index)->supports_selector());
    if (!(*index)->is_trained()) {
      ASSERT_TRUE((*index)->Train(n, data.data()).ok());
    }
    std::vector<int64_t> labels(n);
    for (int i = 0; i < n; ++i) labels[i] = i;
    ASSERT_TRUE((*index)->Add(n, data.data(), labels.data()).ok());

    std::vector<float> scores(10);
    std::vector<int64_t> found(10);
    AnnParams params{8, 64};
    ASSERT_TRUE((*index)->Search(data.data(), 10, params, &odd, scores.data(), found.data()).ok());
    int returned = 0;
    for (int64_t label : found) {
      if (label < 0) continue;
      ++returned;
      EXPECT_EQ(label % 2, 1);
    }
    EXPECT_GT(returned, 0);
  }
}

TEST(FaissIndex, L2ScoresAreNegatedDistancesAndBestFirst) {
  auto index = FaissIndex::Create(kDim, Metric::kL2, "Flat");
  ASSERT_TRUE(index.ok());
  std::vector<float> data = Vectors(50, 7);
  std::vector<int64_t> labels(50);
  for (int i = 0; i < 50; ++i) labels[i] = i;
  ASSERT_TRUE((*index)->Add(50, data.data(), labels.data()).ok());
  std::vector<float> scores(5);
  std::vector<int64_t> found(5);
  ASSERT_TRUE(
      (*index)->Search(data.data() + 3 * kDim, 5, {}, nullptr, scores.data(), found.data()).ok());
  EXPECT_EQ(found[0], 3);
  EXPECT_FLOAT_EQ(scores[0], 0.0f);
  for (int i = 1; i < 5; ++i) EXPECT_LE(scores[i], scores[i - 1]);
}

TEST(FaissIndex, IvfRemovesByLabelAndPositionalIndexesRefuse) {
  std::vector<float> data = Vectors(500, 3);
  std::vector<int64_t> labels(500);
  for (int i = 0; i < 500; ++i) labels[i] = 1000 + i;
  auto ivf = FaissIndex::Create(kDim, Metric::kL2, "IVF4,Flat");
  ASSERT_TRUE(ivf.ok());
  ASSERT_TRUE((*ivf)->Train(500, data.data()).ok());
  ASSERT_TRUE((*ivf)->Add(500, data.data(), labels.data()).ok());
  std::vector<int64_t> gone = {1000, 1001, 99999};
  absl::StatusOr<size_t> removed = (*ivf)->Remove(gone);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ((*ivf)->ntotal(), 498);

  auto hnsw = FaissIndex::Create(kDim, Metric::kL2, "HNSW8");
  ASSERT_TRUE(hnsw.ok());
  EXPECT_FALSE((*hnsw)->supports_remove());
  EXPECT_FALSE((*hnsw)->Remove(gone).ok());
  // A positional index takes only the next positions as labels.
  EXPECT_FALSE((*hnsw)->Add(1, data.data(), labels.data()).ok());
}

// FAISS 1.7.3 reads efSearch from the index: a per-search value must still take effect.
TEST(FaissIndex, PerSearchEfSearchChangesHnswRecall) {
  // One thread builds the graph, so that it (and the recall below) is the same on every run.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const int n = 3000;
  std::vector<float> data = Vectors(n, 21);
  auto index = FaissIndex::Create(kDim, Metric::kL2, "HNSW4");
  ASSERT_TRUE(index.ok());
  std::vector<int64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i;
  ASSERT_TRUE((*index)->Add(n, data.data(), labels.data()).ok());
  (*index)->SetDefaultEfSearch(1);

  auto recall = [&](int ef_search) {
    int found = 0;
    for (int q = 0; q < 200; ++q) {
      std::vector<float> scores(1);
      std::vector<int64_t> top(1);
      AnnParams params{0, ef_search};
      EXPECT_TRUE(
          (*index)
              ->Search(data.data() + q * 7 * kDim, 1, params, nullptr, scores.data(), top.data())
              .ok());
      found += top[0] == q * 7;
    }
    return found;
  };
  const int low = recall(0);  // the default, 1
  const int high = recall(200);
  // A wide candidate list finds nearly every point, a list of one far fewer.
  EXPECT_GE(high, 190) << "low " << low;
  EXPECT_LT(low, high - 40) << "high " << high;
  EXPECT_EQ(recall(0), low);  // the default is back after an override
  omp_set_num_threads(threads);
}

TEST(FaissIndex, WriteAndReadBack) {
  testing::TempDir dir;
  auto index = FaissIndex::Create(kDim, Metric::kInnerProduct, "HNSW8");
  ASSERT_TRUE(index.ok());
  std::vector<float> data = Vectors(100, 11);
  std::vector<int64_t> labels(100);
  for (int i = 0; i < 100; ++i) labels[i] = i;
  ASSERT_TRUE((*index)->Add(100, data.data(), labels.data()).ok());
  std::string path = dir.path() + "/i.faiss";
  ASSERT_TRUE((*index)->Write(path).ok());
  auto read = FaissIndex::Read(path, kDim, Metric::kInnerProduct);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ((*read)->ntotal(), 100);
  EXPECT_EQ((*read)->type_name(), "IndexHNSWFlat");
  EXPECT_EQ(FaissIndex::Read(path, kDim + 1, Metric::kInnerProduct).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(FaissIndex::Read(dir.path() + "/none", kDim, Metric::kL2).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace quarry::shard
