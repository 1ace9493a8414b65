// Rebuilds lines and paragraphs from the words a PDF page places, since a PDF has no notion of
// either: only glyphs at positions.
//
// Words arrive in reading order (poppler's text layout analysis orders them, columns included).
// A word that continues on the same baseline joins the current line; otherwise a new line
// starts. A new paragraph starts where the vertical gap between lines exceeds half a line
// height, where the text moves up (a new column), where a line opens with a bullet, or after a
// short line that ends a sentence. A word broken across lines with a hyphen is joined without a
// space, keeping the hyphen; Chinese, Japanese and Korean text joins across lines without one.
//
// Stateless; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_PDF_PARAGRAPHS_H_
#define QUARRY_SERVICES_TEXT_PDF_PARAGRAPHS_H_

#include <string>
#include <vector>

namespace quarry::text {

// One word as laid out on a page. Coordinates in points, y growing down the page.
struct PlacedWord {
  std::string text;  // UTF-8
  double left = 0, top = 0, right = 0, bottom = 0;
  bool space_after = false;  // the layout put a space between this word and the next
};

// The paragraphs of one page's words, in order; lines joined with single spaces.
std::vector<std::string> GroupIntoParagraphs(const std::vector<PlacedWord>& words);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_PDF_PARAGRAPHS_H_
