// Token-aware chunking: cuts a document's text blocks into passages of about a target number
// of tokens, with an overlap between neighbours, for embedding and for prompts.
//
// Cuts fall at paragraph boundaries when they can, else at sentence boundaries, else at word
// boundaries; sentences and words come from ICU, so Chinese and Japanese text, which has no
// spaces, is cut at its own sentence ends and dictionary words. Each new chunk of a section
// starts with the last sentences of the one before, up to the overlap.
//
// A chunk spans one section, and carries its heading path, unless sections are tiny: a section
// of fewer than `min_section_tokens` tokens (a manual page's one-line "Name" or a "See Also"
// list of links) would make a passage that matches any question sharing its one or two words,
// so it is joined with its neighbours while the whole stays within the target. A joined chunk
// carries the headings its sections share, and the text of each later section starts with that
// section's own heading.
//
// Token counts are exact for the tokenizer given. No chunk has more tokens than the target
// unless one run of words that ICU cannot cut finer has more on its own.
//
// Thread-safe: Chunk may run on many threads at once.
#ifndef QUARRY_SERVICES_TEXT_CHUNKER_H_
#define QUARRY_SERVICES_TEXT_CHUNKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "services/text/text_block.h"
#include "services/text/tokenizer.h"

namespace quarry::text {

struct ChunkingOptions {
  size_t target_tokens = 300;
  size_t overlap_tokens = 50;      // REQUIRES: below target_tokens
  size_t min_section_tokens = 40;  // smaller sections join their neighbours; 0: never
};

struct TextChunk {
  std::string text;
  uint32_t token_count = 0;
  std::vector<std::string> heading_path;
  int page = 0;  // the page the chunk starts on, for PDFs
};

class Chunker {
 public:
  // `tokenizer` is not owned and must outlive the chunker.
  Chunker(const Tokenizer* tokenizer, const ChunkingOptions& options);

  std::vector<TextChunk> Chunk(const std::vector<TextBlock>& blocks) const;

 private:
  const Tokenizer* const tokenizer_;
  const ChunkingOptions options_;
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_CHUNKER_H_
