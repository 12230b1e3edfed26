// Seed 002's param_matrix study: for every linear weight of a model (and for an adapter's update
// ΔW = s·B·A), value statistics and a histogram, the singular value spectrum, and how many
// directions the matrix uses (effective and stable rank). Torch-free header.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tb {

struct MatrixAnalysis {
    std::string name;    // the linear's name (model.layers.3.self_attn.q_proj); for the adapter, its ΔW
    std::string kind;    // its last name component (q_proj, query_key_value, …)
    int64_t layer = -1;  // decoder layer, or -1 outside the layers
    bool adapter = false;
    int64_t rows = 0, cols = 0;
    double mean = 0, std = 0, min = 0, max = 0, frobenius = 0;
    double hist_lo = 0, hist_hi = 0;
    std::vector<int64_t> histogram;  // equal-width bins over [hist_lo, hist_hi]
    // Singular values, descending: all of them when `exact`, else the top k of a randomized SVD,
    // each within `spectrum_error` of the true value (Weyl: ‖W − QQᵀW‖_F, computed).
    std::vector<double> singular_values;
    bool exact = true;
    double spectrum_error = 0;
    double stable_rank = 0;     // ‖W‖_F² / σ₁² (randomized: σ₁ within spectrum_error, so the rank a little high)
    double effective_rank = 0;  // exp(entropy of σᵢ/Σσ) (Roy & Vetterli); exact spectra only, else -1
    double tail_energy = 0;     // share of ‖W‖_F² beyond the listed singular values (0 when exact)
};

struct WeightAnalysisOptions {
    std::string adapter_dir;     // also analyse this LoRA / AdaLoRA adapter's ΔW per adapted linear
    std::string device = "auto";
    std::string filter;          // only linears whose name contains this (empty: all)
    int64_t bins = 64;
    int64_t top_k = 64;          // singular values a randomized SVD returns
    int64_t exact_limit = 1024;  // matrices whose smaller side is at most this get an exact SVD
    uint64_t seed = 0;
};

std::vector<MatrixAnalysis> analyze_weights(const std::string& model_dir, const WeightAnalysisOptions& options);

nlohmann::json weight_analysis_json(const std::vector<MatrixAnalysis>& matrices);
// Normalised spectra (σᵢ/σ₁ against i, log scale), one line per matrix of the base or the adapter.
std::string spectrum_svg(const std::vector<MatrixAnalysis>& matrices, bool adapter);
// Effective rank (or, for randomized spectra, stable rank) per layer, one line per matrix kind.
std::string rank_by_layer_svg(const std::vector<MatrixAnalysis>& matrices, bool adapter);

// Writes weight_analysis.json, spectrum.svg and rank_by_layer.svg (and adapter_*.svg when the
// matrices include an adapter's) into `dir`, each atomically. Replaces only an earlier analysis
// (its JSON carries the marker): ConfigError, before anything is written, for any other
// weight_analysis.json there.
void write_weight_analysis(const std::filesystem::path& dir, const std::vector<MatrixAnalysis>& matrices);
// The same refusal alone, to check a folder before the work.
void check_weight_analysis_folder(const std::filesystem::path& dir);

}  // namespace tb
