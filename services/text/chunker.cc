#include "services/text/chunker.h"

#include <unicode/brkiter.h>
#include <unicode/unistr.h>

#include <memory>

namespace quarry::text {
namespace {

// A piece of text that is never cut further: a sentence, or a run of words of a sentence too
// long to fit a chunk. `paragraph_start` marks the first piece of a block.
struct Piece {
  std::string text;
  size_t tokens = 0;
  bool paragraph_start = false;
  const TextBlock* block = nullptr;
};

// Splits `text` at the boundaries `iterator` finds; the parts concatenate back to `text`.
std::vector<std::string> Split(const std::string& text, icu::BreakIterator& iterator) {
  icu::UnicodeString unicode =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size()));
  iterator.setText(unicode);
  std::vector<std::string> parts;
  for (int32_t start = iterator.first(), end = iterator.next(); end != icu::BreakIterator::DONE;
       start = end, end = iterator.next()) {
    std::string part;
    icu::UnicodeString(unicode, start, end - start).toUTF8String(part);
    parts.push_back(std::move(part));
  }
  return parts;
}

class Splitter {
 public:
  Splitter(const Tokenizer& tokenizer, size_t target) : tokenizer_(tokenizer), target_(target) {
    UErrorCode error = U_ZERO_ERROR;
    sentences_.reset(icu::BreakIterator::createSentenceInstance(icu::Locale::getRoot(), error));
    words_.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), error));
  }

  // The pieces of one block: the whole block when it fits, else its sentences, with sentences
  // that do not fit cut into runs of words.
  void AddBlock(const TextBlock& block, std::vector<Piece>& pieces) {
    const size_t first = pieces.size();
    const size_t tokens = tokenizer_.Count(block.text);
    if (tokens <= target_) {
      pieces.push_back({block.text, tokens, true, &block});
    } else {
      for (std::string& sentence : Split(block.text, *sentences_)) {
        const size_t count = tokenizer_.Count(sentence);
        if (count <= target_) {
          pieces.push_back({std::move(sentence), count, false, &block});
        } else {
          AddWords(sentence, block, pieces);
        }
      }
    }
    if (pieces.size() > first) pieces[first].paragraph_start = true;
  }

 private:
  void AddWords(const std::string& sentence, const TextBlock& block, std::vector<Piece>& pieces) {
    std::string run;
    size_t run_tokens = 0;
    for (std::string& word : Split(sentence, *words_)) {
      size_t count = tokenizer_.Count(word);
      if (count > target_) {
        // A "word" longer than a chunk (a URL, a base64 blob): cut by whole characters.
        AddCharacters(word, block, pieces);
        continue;
      }
      if (run_tokens + count > target_ && !run.empty()) {
        pieces.push_back({std::move(run), tokenizer_.Count(run), false, &block});
        run.clear();
        run_tokens = 0;
      }
      run += word;
      run_tokens += count;
    }
    if (!run.empty()) pieces.push_back({run, tokenizer_.Count(run), false, &block});
  }

  void AddCharacters(const std::string& word, const TextBlock& block, std::vector<Piece>& pieces) {
    icu::UnicodeString unicode =
        icu::UnicodeString::fromUTF8(icu::StringPiece(word.data(), word.size()));
    std::string run;
    for (int32_t i = 0; i < unicode.length(); i = unicode.moveIndex32(i, 1)) {
      std::string character;
      icu::UnicodeString(unicode, i, unicode.moveIndex32(i, 1) - i).toUTF8String(character);
      if (!run.empty() && tokenizer_.Count(run + character) > target_) {
        pieces.push_back({std::move(run), 0, false, &block});
        pieces.back().tokens = tokenizer_.Count(pieces.back().text);
        run.clear();
      }
      run += character;
    }
    if (!run.empty()) pieces.push_back({run, tokenizer_.Count(run), false, &block});
  }

  const Tokenizer& tokenizer_;
  const size_t target_;
  std::unique_ptr<icu::BreakIterator> sentences_;
  std::unique_ptr<icu::BreakIterator> words_;
};

// The text of pieces [begin, end): pieces of one paragraph concatenate, paragraphs are
// separated by a blank line.
std::string Join(const std::vector<Piece>& pieces, size_t begin, size_t end) {
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin && pieces[i].paragraph_start) text += "\n\n";
    text += pieces[i].text;
  }
  return text;
}

// A run of blocks with the same heading path.
struct Section {
  size_t begin = 0;  // blocks [begin, end)
  size_t end = 0;
  size_t tokens = 0;
};

// Consecutive sections chunked together: sections [begin, end).
struct SectionGroup {
  size_t begin = 0;
  size_t end = 0;
  size_t tokens = 0;
};

std::vector<Section> FindSections(const std::vector<TextBlock>& blocks,
                                  const Tokenizer& tokenizer) {
  std::vector<Section> sections;
  for (size_t b = 0; b < blocks.size(); ++b) {
    if (sections.empty() || blocks[b].heading_path != blocks[sections.back().begin].heading_path) {
      sections.push_back({b, b, 0});
    }
    sections.back().end = b + 1;
    sections.back().tokens += tokenizer.Count(blocks[b].text);
  }
  return sections;
}

// Joins each section smaller than `min_tokens` with the sections after it, or else with the
// group before it, as long as the whole stays within `target`.
std::vector<SectionGroup> GroupSections(const std::vector<Section>& sections, size_t min_tokens,
                                        size_t target) {
  std::vector<SectionGroup> groups;
  for (size_t s = 0; s < sections.size();) {
    SectionGroup group{s, s + 1, sections[s].tokens};
    while (group.tokens < min_tokens && group.end < sections.size() &&
           group.tokens + sections[group.end].tokens <= target) {
      group.tokens += sections[group.end].tokens;
      ++group.end;
    }
    if (group.tokens < min_tokens && !groups.empty() &&
        groups.back().tokens + group.tokens <= target) {
      groups.back().end = group.end;
      groups.back().tokens += group.tokens;
    } else {
      groups.push_back(group);
    }
    s = group.end;
  }
  return groups;
}

// How many leading headings the blocks of sections [begin, end) all share.
size_t SharedHeadings(const std::vector<TextBlock>& blocks, const std::vector<Section>& sections,
                      const SectionGroup& group) {
  const std::vector<std::string>& first = blocks[sections[group.begin].begin].heading_path;
  size_t shared = first.size();
  for (size_t s = group.begin + 1; s < group.end; ++s) {
    const std::vector<std::string>& path = blocks[sections[s].begin].heading_path;
    size_t common = 0;
    while (common < shared && common < path.size() && path[common] == first[common]) ++common;
    shared = common;
  }
  return shared;
}

}  // namespace

Chunker::Chunker(const Tokenizer* tokenizer, const ChunkingOptions& options)
    : tokenizer_(tokenizer), options_(options) {}

std::vector<TextChunk> Chunker::Chunk(const std::vector<TextBlock>& blocks) const {
  const size_t target = std::max<size_t>(options_.target_tokens, 1);
  const size_t overlap = std::min(options_.overlap_tokens, target / 2);
  std::vector<TextChunk> chunks;
  Splitter splitter(*tokenizer_, target);

  // Blocks are chunked section by section, tiny sections together with their neighbours.
  const std::vector<Section> sections = FindSections(blocks, *tokenizer_);
  for (const SectionGroup& group : GroupSections(sections, options_.min_section_tokens, target)) {
    const size_t shared = SharedHeadings(blocks, sections, group);
    const std::vector<std::string>& first_path = blocks[sections[group.begin].begin].heading_path;
    const std::vector<std::string> heading_path(first_path.begin(), first_path.begin() + shared);

    std::vector<Piece> pieces;
    for (size_t s = group.begin; s < group.end; ++s) {
      const TextBlock& first_block = blocks[sections[s].begin];
      if (s > group.begin && first_block.heading_path.size() > shared) {
        // A joined section opens with its own heading, so that its words are in the passage.
        const std::string& heading = first_block.heading_path.back();
        pieces.push_back({heading, tokenizer_->Count(heading), true, &first_block});
      }
      for (size_t b = sections[s].begin; b < sections[s].end; ++b) {
        if (blocks[b].text.find_first_not_of(" \t\r\n") == std::string::npos) continue;
        splitter.AddBlock(blocks[b], pieces);
      }
    }

    size_t begin = 0;
    while (begin < pieces.size()) {
      // Grow the chunk piece by piece while its exact count stays within the target; stop at
      // a paragraph boundary rather than split a paragraph when the chunk is already half full.
      size_t end = begin + 1;
      size_t estimate = pieces[begin].tokens;
      while (end < pieces.size()) {
        const size_t next = estimate + pieces[end].tokens + (pieces[end].paragraph_start ? 1 : 0);
        if (next > target) break;
        estimate = next;
        ++end;
      }
      if (end < pieces.size() && !pieces[end].paragraph_start) {
        size_t boundary = end - 1;
        while (boundary > begin && !pieces[boundary].paragraph_start) --boundary;
        size_t kept = 0;
        for (size_t i = begin; i < boundary; ++i) kept += pieces[i].tokens;
        if (boundary > begin && kept >= target / 2) end = boundary;
      }
      std::string text = Join(pieces, begin, end);
      size_t tokens = tokenizer_->Count(text);
      while (tokens > target && end - begin > 1) {
        --end;
        text = Join(pieces, begin, end);
        tokens = tokenizer_->Count(text);
      }
      chunks.push_back(
          {text, static_cast<uint32_t>(tokens), heading_path, pieces[begin].block->page});
      if (end == pieces.size()) break;

      // The next chunk repeats the last pieces of this one, up to the overlap.
      size_t next_begin = end;
      size_t repeated = 0;
      while (next_begin > begin + 1 && repeated + pieces[next_begin - 1].tokens <= overlap) {
        repeated += pieces[next_begin - 1].tokens;
        --next_begin;
      }
      begin = next_begin;
    }
  }
  return chunks;
}

}  // namespace quarry::text
