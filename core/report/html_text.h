// Text for the HTML report: escaping user data (criterion names, provider names, file names and
// error kinds all come from datasets and configs) and numbers as people read them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmeval::report {

// `text` with & < > " ' escaped, safe in element content and in quoted attributes.
std::string html_escape(std::string_view text);

// 1234567 -> "1,234,567".
std::string format_count(std::int64_t value);
// Up to 9,999,999 as format_count; above, "105.7 M" or "2.1 B", so a card's number fits it.
std::string format_compact(std::int64_t value);
// 0.8213 -> "82.1%"; nullopt -> "–".
std::string format_percent(std::optional<double> fraction);
// A number with up to `decimals` decimals, trailing zeros dropped: 2.50 -> "2.5".
std::string format_decimal(double value, int decimals = 2);
// A number with exactly `decimals` decimals, as the summary table prints statistics:
// 0.0964 -> "0.096" (3); nullopt -> "–".
std::string format_fixed(std::optional<double> value, int decimals);
// Milliseconds as "640 ms", "1.2 s", "1 m 05 s".
std::string format_ms(double milliseconds);
// A signed difference: +0.04, -1.5 pp (`suffix` appended), "±0" when it rounds to zero.
std::string format_delta(double value, int decimals, std::string_view suffix = "");

// The last component of a path, as the page names files.
std::string display_file_name(std::string_view path);

// `text` cut to at most `max_bytes` on a UTF-8 character boundary, with "… [+N bytes]" saying
// how much was left out; unchanged when it fits.
std::string cut_text(std::string_view text, std::size_t max_bytes);

}  // namespace llmeval::report
