#include "services/text/piece_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace quarry::text {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(PieceCache, ReturnsWhatWasInserted) {
  PieceCache cache;
  EXPECT_THAT(cache.Find(" hello"), IsEmpty());
  const std::vector<uint32_t> ids = {1, 2, 3};
  cache.Insert(" hello", ids);
  EXPECT_THAT(cache.Find(" hello"), ElementsAre(1, 2, 3));
  EXPECT_THAT(cache.Find(" hell"), IsEmpty());
  EXPECT_THAT(cache.Find(std::string(" hello\0", 7)), IsEmpty());
}

TEST(PieceCache, IgnoresWhatIsTooLongToCache) {
  PieceCache cache;
  const std::string long_piece(PieceCache::kMaxPieceBytes + 1, 'x');
  const std::vector<uint32_t> one = {7};
  cache.Insert(long_piece, one);
  EXPECT_THAT(cache.Find(long_piece), IsEmpty());

  const std::vector<uint32_t> too_many(PieceCache::kMaxIds + 1, 9);
  cache.Insert("abc", too_many);
  EXPECT_THAT(cache.Find("abc"), IsEmpty());
}

TEST(PieceCache, NeverConfusesPiecesThatShareAnEntry) {
  // Far more pieces than entries: each lookup returns its own ids or nothing.
  PieceCache cache;
  for (uint32_t i = 0; i < 4 * PieceCache::kEntries; ++i) {
    const std::vector<uint32_t> ids = {i};
    cache.Insert(std::to_string(i), ids);
  }
  for (uint32_t i = 0; i < 4 * PieceCache::kEntries; ++i) {
    absl::Span<const uint32_t> found = cache.Find(std::to_string(i));
    if (!found.empty()) {
      EXPECT_THAT(found, ElementsAre(i));
    }
  }
}

TEST(PieceCachePool, LendsEachCacheToOneHolderAtATime) {
  PieceCachePool pool(2);
  PieceCachePool::Lease first = pool.Borrow();
  PieceCachePool::Lease second = pool.Borrow();
  ASSERT_NE(first.cache(), nullptr);
  ASSERT_NE(second.cache(), nullptr);
  EXPECT_NE(first.cache(), second.cache());
  EXPECT_EQ(pool.Borrow().cache(), nullptr);

  PieceCache* returned = second.cache();
  { PieceCachePool::Lease ending = std::move(second); }
  EXPECT_EQ(pool.Borrow().cache(), returned);
}

}  // namespace
}  // namespace quarry::text
