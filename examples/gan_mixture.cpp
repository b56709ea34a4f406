// A small GAN on a 2-D mixture of 8 Gaussians (on a circle of radius 2,
// standard deviation 0.05), trained once with ELU and once with ReLU in both
// the generator and the discriminator, from the same seeds: the same initial
// weights, noise and data. The generator's loss is recorded through the
// discriminator into the generator and differentiated with respect to the
// generator's parameters only; the discriminator's step sees the generated
// samples as plain values. Prints, per run and as the mean over the seeds,
// how many of the 8 modes the generator covers and the share of its samples
// near a mode; with gnuplot installed it also draws gan_mixture.png (real
// and generated samples, first seed). Run:
//   ./gan_mixture [training steps] [seeds]
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <fmt/core.h>

#include <etape/etape.hpp>
#include <etape/lab/plots.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/loss.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/random.hpp>

#include "count_argument.hpp"

namespace nn = etape::nn;

constexpr std::size_t mode_count = 8;
constexpr float ring_radius = 2.0f;
constexpr float mode_std = 0.05f;
constexpr float near_distance = 3 * mode_std; // a sample within this of a centre is near that mode
constexpr std::size_t evaluation_samples = 2000;
constexpr std::size_t covered_minimum = 20; // 1 % of the evaluation samples near a mode covers it
constexpr std::size_t noise_width = 2;
constexpr std::size_t hidden_width = 64;
constexpr std::size_t batch_size = 128;
constexpr float learning_rate = 1e-3f;
constexpr float beta1 = 0.5f;
constexpr std::size_t default_steps = 6000;
constexpr std::size_t default_seeds = 5;

/// Noise [batch, noise_width] -> points [batch, 2].
template <class Activation>
struct generator {
    BOOST_HANA_DEFINE_STRUCT(generator, (nn::dense<float, Activation>, l1), (nn::dense<float, Activation>, l2),
                             (nn::dense<float, Activation>, l3), (nn::dense<float>, out));

    template <class X>
    [[nodiscard]] etape::active_tensor<float> operator()(const X& noise) const
    {
        return out(l3(l2(l1(noise))));
    }
};

/// Points [batch, 2] -> one logit each [batch, 1]: the log-odds that a point is real.
template <class Activation>
struct discriminator {
    BOOST_HANA_DEFINE_STRUCT(discriminator, (nn::dense<float, Activation>, l1), (nn::dense<float, Activation>, l2),
                             (nn::dense<float, Activation>, l3), (nn::dense<float>, out));

    template <class X>
    [[nodiscard]] etape::active_tensor<float> operator()(const X& points) const
    {
        return out(l3(l2(l1(points))));
    }
};

/// The centre of mode k: evenly spaced on the circle.
std::array<float, 2> mode_centre(std::size_t k)
{
    const double angle = 2 * std::numbers::pi * static_cast<double>(k) / mode_count;
    return {ring_radius * static_cast<float>(std::cos(angle)), ring_radius * static_cast<float>(std::sin(angle))};
}

/// Fills `points` (row-major x, y pairs) with draws from the mixture.
void draw_real(std::span<float> points, nn::random_generator& random)
{
    for (std::size_t i = 0; i + 1 < points.size(); i += 2) {
        const auto [x, y] = mode_centre(random.below(mode_count));
        points[i] = x + mode_std * random.normal<float>();
        points[i + 1] = y + mode_std * random.normal<float>();
    }
}

void draw_noise(etape::tensor<float>& noise, nn::random_generator& random)
{
    for (float& value : noise.values())
        value = random.normal<float>();
}

/// How a set of points sits on the mixture.
struct mode_score {
    std::size_t modes_covered = 0; ///< modes with at least covered_minimum points near them
    double near_share = 0;         ///< the share of points within near_distance of their nearest centre
};

mode_score score(std::span<const float> points)
{
    std::array<std::size_t, mode_count> near_counts{};
    const std::size_t count = points.size() / 2;
    for (std::size_t i = 0; i < count; ++i) {
        float nearest = std::numeric_limits<float>::infinity();
        std::size_t nearest_mode = 0;
        for (std::size_t k = 0; k < mode_count; ++k) {
            const auto [x, y] = mode_centre(k);
            const float distance = std::hypot(points[2 * i] - x, points[2 * i + 1] - y);
            if (distance < nearest) {
                nearest = distance;
                nearest_mode = k;
            }
        }
        if (nearest <= near_distance)
            ++near_counts[nearest_mode];
    }
    mode_score result;
    std::size_t near_total = 0;
    for (const std::size_t n : near_counts) {
        result.modes_covered += n >= covered_minimum ? 1 : 0;
        near_total += n;
    }
    result.near_share = static_cast<double>(near_total) / static_cast<double>(count);
    return result;
}

struct run_result {
    mode_score generated;
    float discriminator_loss = 0; ///< of the last step
    float generator_loss = 0;
    double seconds = 0;
    std::vector<float> samples; ///< the evaluation samples, x, y pairs
};

/// Trains a GAN with `Activation` in both networks for `steps` steps from
/// `seed`, then scores evaluation_samples generated points.
template <class Activation>
run_result train_gan(std::uint64_t seed, std::size_t steps)
{
    const auto started = std::chrono::steady_clock::now();
    etape::tape_scope<float> scope; // both networks' parameters live on it
    generator<Activation> gen{
        {noise_width, hidden_width}, {hidden_width, hidden_width}, {hidden_width, hidden_width}, {hidden_width, 2}};
    discriminator<Activation> disc{
        {2, hidden_width}, {hidden_width, hidden_width}, {hidden_width, hidden_width}, {hidden_width, 1}};
    nn::random_generator random(seed);
    nn::initialize(gen, random);
    nn::initialize(disc, random);
    nn::random_generator data_stream = random.split(), noise_stream = random.split();

    // each optimizer updates its own network's parameters only, from the
    // gradients that its sweep leaves in the tape's adjoints
    nn::adam<float> generator_optimizer(gen, {.learning_rate = learning_rate, .beta1 = beta1});
    nn::adam<float> discriminator_optimizer(disc, {.learning_rate = learning_rate, .beta1 = beta1});
    const etape::tape_position start = scope.get().position();

    etape::tensor<float> noise({batch_size, noise_width});
    etape::tensor<float> real_then_generated({2 * batch_size, 2});
    etape::tensor<float> real_labels({2 * batch_size, 1}); // 1 for the real rows, 0 for the generated ones
    std::fill_n(real_labels.values().begin(), batch_size, 1.0f);
    const etape::tensor<float> all_real({batch_size, 1}, 1.0f);
    const std::span<float> real_half = real_then_generated.values().first(2 * batch_size);
    const std::span<float> generated_half = real_then_generated.values().last(2 * batch_size);

    run_result result;
    for (std::size_t step = 0; step < steps; ++step) {
        // the discriminator's step: the generated points enter as values
        // (recorded, copied out, rewound away), so that nothing flows back
        // into the generator
        draw_real(real_half, data_stream);
        draw_noise(noise, noise_stream);
        std::ranges::copy(gen(noise).values(), generated_half.begin());
        scope.get().rewind(start);
        const etape::var<float> discriminator_loss =
            nn::binary_cross_entropy_with_logits(disc(real_then_generated), real_labels);
        result.discriminator_loss = discriminator_loss.value();
        discriminator_optimizer.step(discriminator_loss);
        scope.get().rewind(start);

        // the generator's step, non-saturating: -log D(G(z)), recorded
        // through the discriminator into the generator
        draw_noise(noise, noise_stream);
        const etape::var<float> generator_loss = nn::binary_cross_entropy_with_logits(disc(gen(noise)), all_real);
        result.generator_loss = generator_loss.value();
        generator_optimizer.step(generator_loss);
        scope.get().rewind(start);
    }

    etape::tensor<float> evaluation_noise({evaluation_samples, noise_width});
    draw_noise(evaluation_noise, noise_stream);
    const etape::active_tensor<float> samples = gen(evaluation_noise);
    result.samples.assign(samples.values().begin(), samples.values().end());
    result.generated = score(result.samples);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

/// One activation's runs over the seeds.
struct activation_runs {
    std::string name;
    double mean_modes = 0;      ///< modes covered, mean over the seeds
    double mean_near_share = 0; ///< share of samples near a mode, mean over the seeds
    run_result first;           ///< the first seed's run, for the plot
};

/// Trains with `Activation` from seeds 1 to `seeds`, printing a line per run.
template <class Activation>
activation_runs train_seeds(std::string name, std::size_t steps, std::size_t seeds)
{
    activation_runs runs;
    runs.name = std::move(name);
    for (std::size_t seed = 1; seed <= seeds; ++seed) {
        run_result r = train_gan<Activation>(seed, steps);
        fmt::print("{:<4} seed {}: {}/{} modes, {:5.1f} % near a mode (last step: D loss {:.3f}, G loss {:.3f}; "
                   "{:.1f} s)\n",
                   runs.name, seed, r.generated.modes_covered, mode_count, 100 * r.generated.near_share,
                   r.discriminator_loss, r.generator_loss, r.seconds);
        runs.mean_modes += static_cast<double>(r.generated.modes_covered) / static_cast<double>(seeds);
        runs.mean_near_share += r.generated.near_share / static_cast<double>(seeds);
        if (seed == 1)
            runs.first = std::move(r);
    }
    return runs;
}

/// Draws the real samples and each activation's first-seed samples into
/// gan_mixture.png, one panel per activation.
void plot(std::span<const float> real, std::span<const activation_runs> activations)
{
    const std::filesystem::path gnuplot = etape::lab::find_program("gnuplot");
    if (gnuplot.empty()) {
        fmt::print("no plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
        return;
    }
    std::string script = fmt::format("set terminal pngcairo size {},480 noenhanced\nset output 'gan_mixture.png'\n"
                                     "set multiplot layout 1,{}\nset size ratio -1\nset xrange [-3:3]\n"
                                     "set yrange [-3:3]\nset key bottom right\n",
                                     460 * activations.size(), activations.size());
    const auto add_points = [&script](std::span<const float> xy) {
        for (std::size_t i = 0; i + 1 < xy.size(); i += 2)
            script += fmt::format("{} {}\n", xy[i], xy[i + 1]);
        script += "e\n";
    };
    for (const activation_runs& a : activations) {
        script += fmt::format("set title '{}, seed 1: {}/{} modes, {:.1f} % near a mode'\n", a.name,
                              a.first.generated.modes_covered, mode_count, 100 * a.first.generated.near_share);
        script += "plot '-' with points pt 7 ps 0.3 lc rgb '#b0b0b0' title 'real', "
                  "'-' with points pt 7 ps 0.3 lc rgb '#d62728' title 'generated'\n";
        add_points(real);
        add_points(a.first.samples);
    }
    script += "unset multiplot\n";
    etape::lab::write_atomically("gan_mixture.gp", script);
    const int status = std::system(("'" + gnuplot.string() + "' gan_mixture.gp").c_str());
    std::filesystem::remove("gan_mixture.gp");
    if (status != 0) {
        fmt::print(stderr, "gnuplot failed: no plot\n");
        return;
    }
    fmt::print("plot: gan_mixture.png (real and generated samples, seed 1)\n");
}

int main(int argc, char** argv)
{
    if (argc > 3) {
        fmt::print(stderr, "gan_mixture: usage: gan_mixture [training steps] [seeds]\n");
        return 2;
    }
    const std::optional<std::size_t> steps =
        argc > 1 ? count_argument("gan_mixture", "training steps", argv[1], 1, 1'000'000)
                 : std::optional(default_steps);
    const std::optional<std::size_t> seeds =
        argc > 2 ? count_argument("gan_mixture", "seeds", argv[2], 1, 100) : std::optional(default_seeds);
    if (!steps || !seeds)
        return 2;

    fmt::print("GAN on {} Gaussians on a circle of radius {} (std {}). Generator {}-{}-{}-{}-2 from standard normal "
               "noise, discriminator 2-{}-{}-{}-1;\nnon-saturating loss (binary cross-entropy with logits), Adam {} "
               "(beta1 {}) for both, batch {}, {} step{}; {}, the same for ELU and ReLU.\n",
               mode_count, ring_radius, mode_std, noise_width, hidden_width, hidden_width, hidden_width, hidden_width,
               hidden_width, hidden_width, learning_rate, beta1, batch_size, *steps, *steps == 1 ? "" : "s",
               *seeds == 1 ? std::string("seed 1") : fmt::format("seeds 1 to {}", *seeds));
    fmt::print(
        "Scored on {} generated samples: a sample is near a mode within {} (3 std) of the nearest centre; a mode "
        "is covered when at least {} samples (1 %) are near it.\n",
        evaluation_samples, near_distance, covered_minimum);
    std::vector<float> real(2 * evaluation_samples);
    nn::random_generator real_stream(0);
    draw_real(real, real_stream);
    const mode_score real_score = score(real);
    fmt::print("Samples of the mixture itself score {}/{} modes, {:.1f} % near a mode.\n\n", real_score.modes_covered,
               mode_count, 100 * real_score.near_share);

    const std::array<activation_runs, 2> activations{train_seeds<nn::activation::elu>("ELU", *steps, *seeds),
                                                     train_seeds<nn::activation::relu>("ReLU", *steps, *seeds)};
    fmt::print("\n");
    plot(real, activations);
    for (const activation_runs& a : activations)
        fmt::print("{}: {:.1f}/{} modes, {:.1f} % of samples near a mode (mean of {} seed{})\n", a.name, a.mean_modes,
                   mode_count, 100 * a.mean_near_share, *seeds, *seeds == 1 ? "" : "s");
    return 0;
}
