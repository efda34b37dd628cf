// The HTML report's static sections, each a piece of HTML with its charts as inline SVG: they
// render without the script. Every name from the results (criteria, providers, error kinds,
// file names) is escaped. Element ids and classes are what assets/report.css styles and
// tests/report/check_report.mjs looks for.
#pragma once

#include <string>

#include "core/report/report_overview.h"

namespace llmeval::report {

std::string headline_section(const ReportOverview& overview);  // #headline: the cards
std::string compare_section(const ReportOverview& overview);   // #compare: only with a baseline
std::string criteria_section(const ReportOverview& overview);  // #criteria: histograms
// From the summary's agreement, jury_agreement and pairwise sections; each is empty ("") when the
// results have no labelled, jury or pairwise criterion.
std::string agreement_section(const ReportOverview& overview);  // #agreement: judge vs human labels
std::string jury_section(const ReportOverview& overview);       // #jury: jurors vs each other
std::string pairwise_section(const ReportOverview& overview);   // #pairwise: wins, ranking
std::string latency_section(const ReportOverview& overview);   // #latency
std::string providers_section(const ReportOverview& overview);  // #providers
std::string errors_section(const ReportOverview& overview);    // #errors

}  // namespace llmeval::report
