// Exposition: the pure pieces of the Prometheus text format 0.0.4 that every metric family
// shares: sample values, escaping, and label sets.
//
// These take values and return (or append) text; they hold no state and are safe to call from
// any thread. They do not validate names: FamilyBase does that once, at registration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmeval::metrics {

// A sample value as Prometheus clients write it: integral values (|v| < 2^53) without a decimal
// point ("3", "0", "-2"), other finite values in the shortest form that reads back to the same
// double ("0.25", "1e-07", "1e+300"), and "+Inf", "-Inf", "NaN".
std::string format_value(double value);
void append_value(std::string& out, double value);

// A label value goes between double quotes: backslash, double quote and newline are escaped.
std::string escape_label_value(std::string_view value);
// A HELP text runs to the end of the line: backslash and newline are escaped, quotes are not.
std::string escape_help(std::string_view help);

// Appends `{name1="value1",name2="value2"}`, or nothing when there are no labels and no `le`.
// A non-empty `le` adds a last `le="…"` pair (a histogram bucket's upper bound). `names` and
// `values` have the same length (families check that before a series exists).
void append_labels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view le = {});

}  // namespace llmeval::metrics
