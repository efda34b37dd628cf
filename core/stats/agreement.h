// Agreement between two raters scoring the same items (a judge and human labels, two jurors):
// Cohen's kappa (unweighted for nominal verdicts, quadratic-weighted for ordinal scales), and
// the rank correlations Spearman's rho and Kendall's tau-b, both with ties. Percent agreement
// hides agreement by chance; kappa corrects for it (Cohen 1960; weighted: Cohen 1968).
// Over whole-number scores, AgreementTable (agreement_table.h) gives the same statistics from a
// k x k table of counts in constant memory; cohen_kappa is computed by one.
#pragma once

#include <optional>
#include <span>

namespace llmeval::stats {

enum class KappaWeights { kNone, kQuadratic };

// Cohen's kappa of two raters' scores on the same items, over the categories min..max (whole
// numbers; a score outside them is not counted): (p_o - p_e) / (1 - p_e) with disagreement
// weights w_ij = 0 on the diagonal and 1 elsewhere (kNone) or ((i - j) / (k - 1))^2
// (kQuadratic), as 1 - sum w O / sum w E. nullopt with no item, spans of different lengths, or
// when chance agreement is already perfect (every item in one category for both raters).
std::optional<double> cohen_kappa(std::span<const double> a, std::span<const double> b, int min, int max,
                                  KappaWeights weights);

// Spearman's rho: Pearson's correlation of the average ranks (ties share their mean rank).
// nullopt with fewer than 2 items, spans of different lengths, or a constant side.
std::optional<double> spearman_rho(std::span<const double> a, std::span<const double> b);

// Kendall's tau-b: (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)), n0 = n(n-1)/2 and n1,
// n2 the pairs tied in a and in b. O(n^2): for agreement sets of labelled rows (thousands).
// nullopt with fewer than 2 items, spans of different lengths, or a constant side.
std::optional<double> kendall_tau_b(std::span<const double> a, std::span<const double> b);

}  // namespace llmeval::stats
