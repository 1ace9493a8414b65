// Memo of recently encoded short pieces and their token ids, so that the words a text repeats
// are encoded once.
//
// A PieceCache owns a direct-mapped table of kEntries entries, each one piece of up to
// kMaxPieceBytes bytes with up to kMaxIds ids; a new piece replaces whatever held its entry.
// The table (128 KiB) stays in a core's cache, where a lookup is far cheaper than a probe of a
// rank table of several megabytes. A PieceCache is used by one thread at a time.
//
// A PieceCachePool owns a fixed number of caches and lends each to one thread at a time; it is
// thread-safe. A thread that finds every cache lent out encodes without one.
#ifndef QUARRY_SERVICES_TEXT_PIECE_CACHE_H_
#define QUARRY_SERVICES_TEXT_PIECE_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace quarry::text {

class PieceCache {
 public:
  static constexpr size_t kEntries = 4096;
  static constexpr size_t kMaxPieceBytes = 15;
  static constexpr size_t kMaxIds = 3;

  PieceCache();

  // The ids cached for `piece`; empty when it is not cached.
  absl::Span<const uint32_t> Find(absl::string_view piece) const;

  // Caches `ids` as the encoding of `piece`; does nothing when either is too long to cache.
  void Insert(absl::string_view piece, absl::Span<const uint32_t> ids);

 private:
  // A piece's bytes in the low 15 bytes and its length in the top byte, so that two keys are
  // equal exactly when the pieces are.
  struct Key {
    uint64_t low = 0;
    uint64_t high = 0;
    bool operator==(const Key& other) const { return low == other.low && high == other.high; }
  };
  struct Entry {
    Key key;
    uint32_t ids[kMaxIds];
    uint32_t id_count = 0;  // 0: the entry is empty
  };

  // REQUIRES: piece.size() <= kMaxPieceBytes.
  static Key MakeKey(absl::string_view piece);
  static size_t EntryIndex(const Key& key);

  std::unique_ptr<Entry[]> entries_;
};

class PieceCachePool {
 public:
  // A cache lent to the caller until the lease is destroyed; cache() is nullptr when none was
  // free.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PieceCache* cache() const { return cache_; }

   private:
    friend class PieceCachePool;
    Lease(std::atomic<bool>* lent, PieceCache* cache) : lent_(lent), cache_(cache) {}
    std::atomic<bool>* lent_;
    PieceCache* cache_;
  };

  // A pool of `caches` caches, each allocated when first lent. REQUIRES: caches >= 1.
  explicit PieceCachePool(size_t caches);

  // Lends a cache no other thread holds, if there is one.
  Lease Borrow();

 private:
  struct Slot {
    std::atomic<bool> lent{false};
    std::unique_ptr<PieceCache> cache;  // touched only by the thread that has it lent
  };
  std::vector<Slot> slots_;
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_PIECE_CACHE_H_
